"""Celery tasks of regions: thin doors onto the services."""
from celery import shared_task


@shared_task(name="regions.tasks.escalate_overdue_stages")
def escalate_overdue_stages():
    """Escalate every overdue stage to the region's coordinators, once. Returns how many escalated."""
    from regions.services.duties import escalate_overdue

    return escalate_overdue()
