"""Allocation: a request gets a quantity of a listing (first come at once, or when a screening window
closes, first come within the window or by the optimizer), which creates the transfer and opens its
approval steps."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from exchange.models import Listing, Transfer, TransferRequest
from exchange.services import approvals, optimizer, stock
from exchange.services.common import locked
from exchange.services.screening import standards_today
from kernel import audit
from kernel.errors import InvalidState
from kernel.geo import km_between
from regions.models import AllocationMode
from regions.permissions import require
from regions.services import duties


def allocate(user, request, quantity, *, reason, standards=None):
    """Allocate `quantity` of the request's listing to it: one conditional UPDATE (never below zero,
    CHECK-backed), then the transfer and its parallel approval steps. Losers get `AlreadyAllocated`."""
    listing = request.listing
    stock.take(listing, quantity)
    standards = standards or standards_today(listing.region)
    giver, receiver = listing.agency, request.agency
    value = listing.asset.original_value * quantity if listing.asset_id else 0
    transfer = Transfer.objects.create(
        request=request, listing=listing, region=listing.region, giver=giver, receiver=receiver,
        giver_jurisdiction_id=giver.jurisdiction_id, receiver_jurisdiction_id=receiver.jurisdiction_id,
        quantity=quantity, value=value, distance_km=km_between(giver.location, receiver.location),
        allocation_reason=reason)
    request.status = TransferRequest.Status.ALLOCATED
    request.save(update_fields=["status"])
    duties.close_duty(request, duties.Stage.ALLOCATION)
    audit.record(user, "transfer.allocated", transfer, before={"quantity_available": listing.quantity_available
                                                               + quantity},
                 after={"quantity_available": listing.quantity_available, "request": request.pk,
                        "quantity": quantity, "value": value, "reason": reason},
                 transfer=transfer, region=listing.region, jurisdiction=receiver.jurisdiction)
    approvals.open_steps(user, transfer, standards)
    return transfer


def first_come_plan(listings, requests):
    """Allocation plan: first come within the window by created_at. Planners take (listings, requests)
    and return [(request, quantity, reason)]; `exchange.services.optimizer.plan` is the other."""
    left = {listing.pk: listing.quantity_available for listing in listings}
    plan = []
    for request in sorted(requests, key=lambda r: (r.created_at, r.pk)):
        if left.get(request.listing_id, 0) >= request.quantity:
            left[request.listing_id] -= request.quantity
            plan.append((request, request.quantity, gettext_noop("first come within the window")))
    return plan


def _planner(mode):
    return optimizer.plan if mode == AllocationMode.OPTIMIZED else first_come_plan


@transaction.atomic
def allocate_at_window_close(listing, user=None, *, now=None):
    """Allocate the pending requests of the window(s) that have closed: requests made during the own-
    jurisdiction window once it has closed, all requests once the regional window has closed. Those
    not served are marked not allocated. Returns the transfers created."""
    now = now or timezone.now()
    listing = locked(Listing.objects.select_related("region", "asset", "office_space")).get(pk=listing.pk)
    if user is not None:
        require(user, "allocation.run", listing)
    if listing.status != Listing.Status.OPEN:
        raise InvalidState(_("The listing is not open."), field="listing_id")
    if not listing.window_closed(now):
        raise InvalidState(_("The screening window has not closed yet."), field="listing_id")
    candidates = list(listing.requests_of_closed_windows(now).select_related("agency"))
    standards = standards_today(listing.region)
    plan = _planner(standards.allocation_mode)([listing], candidates)
    transfers = []
    for request, quantity, reason in plan:
        request.listing = listing
        transfers.append(allocate(user, request, quantity, reason=reason, standards=standards))
        listing.refresh_from_db(fields=["quantity_available", "status"])
    served = {t.request_id for t in transfers}
    losers = [r.pk for r in candidates if r.pk not in served]
    if losers:
        TransferRequest.objects.filter(pk__in=losers).update(status=TransferRequest.Status.NOT_ALLOCATED)
        duties.close_duties(TransferRequest, losers, duties.Stage.ALLOCATION)
        audit.record(user, "request.not_allocated", listing, after={"requests": losers}, region=listing.region,
                     jurisdiction=listing.jurisdiction)
    return transfers
