from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("公物仓 Exchange")

    def ready(self):
        # Register the GeoJSON converter for geometry fields before any DjangoObjectType is built,
        # whichever module builds a schema first.
        from exchange.graphql import scalars  # noqa: F401
