"""Periodic tasks of the lifecycle (thin doors onto the services); each is idempotent."""
from celery import shared_task

from lifecycle.services import disposal, loans, wants, webhooks


@shared_task(name="lifecycle.tasks.open_disposals")
def open_disposals():
    """Move listings whose regional window ended unclaimed into disposal. Returns how many moved."""
    return disposal.open_disposals()


@shared_task(name="lifecycle.tasks.alert_regional_wants")
def alert_regional_wants():
    """Alert the region's wants of listings that entered the regional window. Returns notices created."""
    return wants.alert_regional_wants()


@shared_task(name="lifecycle.tasks.send_loan_lights")
def send_loan_lights():
    """Notify loans turning yellow (due soon) or red (overdue), once per light. Returns loans notified."""
    return loans.send_loan_lights()


@shared_task(name="lifecycle.tasks.send_loan_approval_lights")
def send_loan_approval_lights():
    """Notify the bureaus whose loan decision turns yellow or red, once per light. Returns loans notified."""
    return loans.send_loan_approval_lights()


@shared_task(name="lifecycle.tasks.deliver_webhook")
def deliver_webhook(delivery_id):
    """One attempt of a webhook delivery (a failure is retried by `retry_webhooks`, with backoff)."""
    delivery = webhooks.deliver(delivery_id)
    return None if delivery is None else delivery.status


@shared_task(name="lifecycle.tasks.retry_webhooks")
def retry_webhooks():
    """Attempt the webhook deliveries that are due. Returns how many were attempted."""
    return webhooks.retry_due()
