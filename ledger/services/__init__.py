"""Ledger entry points called by other apps."""
from .compensation import on_transfer_completed
from .rent import post_monthly_rent, post_occupancy_rent

__all__ = ["on_transfer_completed", "post_monthly_rent", "post_occupancy_rent"]
