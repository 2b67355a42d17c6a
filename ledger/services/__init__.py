"""Ledger entry points called by other apps."""
from .compensation import on_transfer_completed, post_monthly_rent

__all__ = ["on_transfer_completed", "post_monthly_rent"]
