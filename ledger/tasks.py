"""Celery tasks of the ledger (thin doors onto services)."""
from celery import shared_task

from ledger import services


@shared_task(name="ledger.tasks.post_monthly_rent")
def post_monthly_rent():
    """Post each active occupancy's rent-equivalent for every completed month not yet posted."""
    return services.post_monthly_rent()
