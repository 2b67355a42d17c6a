"""Celery tasks of the kernel (thin doors)."""
from celery import shared_task

from kernel import audit


@shared_task(name="kernel.tasks.audit_checkpoint")
def audit_checkpoint():
    """The daily anchor of the audit trail (head hash and count); nothing when the head has not moved since
    the last checkpoint, so a re-run or a redelivery writes nothing."""
    point = audit.checkpoint_if_moved("daily")
    return point and {"id": point.pk, "head_event_id": point.head_event_id, "count": point.event_count}
