"""Celery tasks: thin doors onto the services."""
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from exchange.models import Listing, TransferRequest
from exchange.services.allocation import allocate_at_window_close
from exchange.services.reminders import send_approval_reminders as send
from kernel.errors import DomainError


@shared_task(name="exchange.tasks.send_approval_reminders")
def send_approval_reminders():
    return send()


@shared_task(name="exchange.tasks.allocate_closed_windows")
def allocate_closed_windows():
    """Allocate open listings of window-close / optimized regions whose screening window has closed
    and that have pending requests. Returns the number of transfers created."""
    now = timezone.now()
    pending = TransferRequest.objects.filter(status=TransferRequest.Status.PENDING)
    listings = Listing.objects.filter(Listing.past_own_window(now), status=Listing.Status.OPEN,
                                      requests__in=pending).distinct()
    created = 0
    for listing in listings:
        try:
            with transaction.atomic():
                created += len(allocate_at_window_close(listing, None, now=now))
        except DomainError:
            continue
    return created
