from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    label = "ledger"
    verbose_name = _("Compensation ledger")

    def ready(self):
        # Hear of completed transfers from the exchange, which knows nothing of the ledger.
        from exchange.models import Transfer
        from exchange.signals import transfer_completed
        from ledger.services.compensation import post_completed_transfer

        transfer_completed.connect(post_completed_transfer, sender=Transfer, dispatch_uid="ledger.compensation")
