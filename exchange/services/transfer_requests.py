"""Transfer requests: an agency asks for a listing (screened against the standards in force; allocated
at once where the region allocates first come) or withdraws its pending request."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from exchange.models import Listing, TransferRequest
from exchange.services import allocation
from exchange.services.common import check_needed_by, locked, require_text
from exchange.services.screening import breaches, standards_today
from kernel import audit, bounds
from kernel.errors import AlreadyAllocated, InvalidState, PermissionDenied, StandardsBreach, ValidationFailed
from kernel.workdays import add_working_days
from regions.membership import ancestors, regions_of
from regions.models import AllocationMode
from regions.permissions import require
from regions.scope import Scope
from regions.services import duties


def _request_snapshot(request):
    return {"listing": request.listing_id, "agency": request.agency_id, "quantity": request.quantity,
            "status": request.status, "exception_requested": request.exception_requested,
            "breaches": [b["code"] for b in request.breaches]}


@transaction.atomic
def create_request(user, *, listing, agency, quantity, justification, needed_by=None, exception_requested=False,
                   exception_justification=""):
    """Screen a request against the standards in force today and record it. Breaches are refused with
    every reason unless an exception is asked for with a justification (then the coordinator approves
    too). Where the region allocates first come, the request is allocated at once or refused with
    `AlreadyAllocated`. Returns (request, transfer or None)."""
    require(user, "request.create", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    # The row lock comes first so that concurrent requesters queue on the listing, not on each other.
    listing = locked(Listing.objects.select_related("asset__asset_class", "office_space", "region")).filter(
        pk=listing.pk).first()
    if listing is None:
        raise InvalidState(_("No such listing."), field="listing_id", code="not_found")
    if agency.pk == listing.agency_id:
        raise ValidationFailed(_("An agency cannot request its own item."), field="agency_id")
    if listing.region_id not in regions_of([agency.jurisdiction_id]):
        raise PermissionDenied(_("The agency is not in the listing's region."), field="agency_id")
    window = listing.window_at()
    if window == Listing.Window.JURISDICTION and listing.jurisdiction_id not in ancestors([agency.jurisdiction_id]):
        raise PermissionDenied(_("Only agencies of the listing's jurisdiction may request it until %(at)s.")
                               % {"at": f"{timezone.localtime(listing.own_window_ends_at):%Y-%m-%d %H:%M}"},
                               field="listing_id")
    if listing.status == Listing.Status.ALLOCATED:
        raise AlreadyAllocated(field="listing_id")
    if listing.status != Listing.Status.OPEN:
        raise InvalidState(_("The listing is not open."), field="listing_id")
    if window == Listing.Window.DISPOSAL:
        raise InvalidState(_("Screening has ended; the item is in the disposal window."), field="listing_id")
    if quantity is None or not 1 <= quantity <= listing.quantity:
        raise ValidationFailed(_("The quantity must be between 1 and the quantity offered."), field="quantity")
    if quantity > listing.quantity_available:
        raise AlreadyAllocated(_("Only %(n)s left.") % {"n": listing.quantity_available}, field="quantity")
    justification = bounds.check(TransferRequest, "justification",
                                 require_text(justification, "justification", _("A justification is required.")))
    exception_justification = bounds.check(TransferRequest, "exception_justification", exception_justification)
    check_needed_by(needed_by)
    standards = standards_today(listing.region)
    found = breaches(standards, listing, agency, quantity)
    if found and not exception_requested:
        raise StandardsBreach(details=[{"field": b["field"], "code": "standards_breach",
                                        "message": f"[{b['code']}] {b['message']}"} for b in found])
    if exception_requested:
        exception_justification = require_text(exception_justification, "exception_justification",
                                               _("An exception needs its own justification."))
    request = TransferRequest.objects.create(
        listing=listing, agency=agency, quantity=quantity, justification=justification, needed_by=needed_by,
        exception_requested=bool(exception_requested), exception_justification=exception_justification or "",
        breaches=found, standard_set=standards, created_by=user)
    open_allocation(request, listing, standards)
    audit.record(user, "request.created", request, after=_request_snapshot(request) | {
        "standard_set": standards.pk, "window": window}, region=listing.region, jurisdiction=agency.jurisdiction)
    transfer = None
    if standards.allocation_mode == AllocationMode.FIRST_COME:
        transfer = allocation.allocate(user, request, quantity, reason=gettext_noop("first come"), standards=standards)
    return request, transfer


def open_allocation(request, listing, standards):
    """The stage pending allocation: the listing's bureau allocates within the standard's working days after
    the screening window the request was made in."""
    window_end = listing.window_ends_at(request.created_at) or request.created_at
    due = add_working_days(max(window_end, request.created_at), standards.allocation_working_days)
    duties.open_duty(request, duties.Stage.ALLOCATION, action="allocation.run", region_id=listing.region_id,
                     jurisdiction_id=listing.jurisdiction_id, opened_at=request.created_at, due_at=due)


@transaction.atomic
def withdraw_request(user, request, *, reason):
    """Withdraw a request not yet allocated (an allocated one is cancelled through its transfer)."""
    require(user, "request.withdraw", request)
    reason = require_text(reason, "reason", _("A withdrawal needs a reason."))
    request = locked(TransferRequest.objects.select_related("listing__region")).get(pk=request.pk)
    if request.status != TransferRequest.Status.PENDING:
        raise InvalidState(_("Only a pending request can be withdrawn; cancel its transfer instead."),
                           field="request_id")
    request.status = TransferRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    duties.close_duty(request, duties.Stage.ALLOCATION)
    audit.record(user, "request.withdrawn", request, before={"status": "pending"},
                 after={"status": request.status, "reason": reason}, region=request.listing.region)
    return request
