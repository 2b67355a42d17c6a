"""Signals the exchange sends. Apps above it (the ledger) listen, so the exchange never imports them."""
from django.dispatch import Signal

# Sent inside the handover transaction once a transfer has completed, with `transfer` (locked, with its
# region, parties, their jurisdictions and the item loaded) and `user`. A receiver that raises rolls the
# handover back.
transfer_completed = Signal()

# Sent inside the transaction that ends an office-space occupancy, with `occupancy` (locked) and `user`.
occupancy_ended = Signal()
