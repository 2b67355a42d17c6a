"""Celery tasks of regions: thin doors onto the services."""
from celery import shared_task

from regions.services.duties import escalate_overdue


@shared_task(name="regions.tasks.escalate_overdue_stages")
def escalate_overdue_stages():
    """Escalate every overdue stage to the region's coordinators, once. Returns how many escalated."""
    return escalate_overdue()
