from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange")

    def ready(self):
        """Who may take an approval step on is who may decide it: the separation of duties applies."""
        from exchange.services import approvals
        from regions.services import duties

        duties.ACT_CHECKS[duties.Stage.APPROVAL] = approvals.may_decide
