from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    label = "ledger"
    verbose_name = _("Compensation ledger")

    def ready(self):
        # Hear of completed transfers from the exchange, which knows nothing of the ledger. Imported in
        # ready(): models and services can be imported only once the app registry is loaded.
        from exchange.models import Occupancy, Transfer
        from exchange.signals import occupancy_ended, transfer_completed
        from ledger.services.compensation import post_completed_transfer
        from ledger.services.rent import post_ended_occupancy

        transfer_completed.connect(post_completed_transfer, sender=Transfer, dispatch_uid="ledger.compensation")
        occupancy_ended.connect(post_ended_occupancy, sender=Occupancy, dispatch_uid="ledger.occupancy_rent")
