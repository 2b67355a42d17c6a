"""Ledger entry points called by other apps (the ledger issue fills these in)."""


def on_transfer_completed(transfer, user):
    """Post the transfer's compensation. Called by the handover service inside its transaction."""
    return None
