"""Writes on the transfer lifecycle: request (standards screening), allocation (first come or at window
close), parallel approval steps with working-day deadlines, cancellation/withdrawal, handover."""
import secrets

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import ApprovalStep, Asset, Condition, Listing, OfficeSpace, Transfer, TransferRequest
from exchange.services.common import ancestry, locked, pick_message, regions_of, require_text
from kernel import audit
from kernel.errors import AlreadyAllocated, InvalidState, PermissionDenied, StandardsBreach, ValidationFailed
from kernel.geo import km_between
from kernel.workdays import add_working_days
from regions.models import AllocationMode
from regions.permissions import Scope, require


def _standards(region, on=None):
    from regions.services.standards import standard_in_force

    return standard_in_force(region, on or timezone.localdate())


def _breaches(standards, listing, agency, quantity):
    from regions.services import standards as checks

    today = timezone.localdate()
    if listing.asset_id:
        found = checks.check_asset_request(standards, asset=listing.asset, agency=agency, quantity=quantity, on=today)
    else:
        found = checks.check_office_request(standards, office_space=listing.office_space, agency=agency, on=today)
    return [{"field": b.field, "code": b.code, "message": pick_message(b), "message_zh": b.message_zh,
             "message_en": b.message_en} for b in found]


def standards_check(user, listing, agency, quantity):
    """The check `create_request` runs, without saving anything (for a "check first" button):
    {"standards": the set in force today, "breaches": [{field, code, message, message_zh, message_en}]}."""
    require(user, "request.create", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    standards = _standards(listing.region)
    return {"standards": standards, "breaches": _breaches(standards, listing, agency, quantity)}


def _request_snapshot(request):
    return {"listing": request.listing_id, "agency": request.agency_id, "quantity": request.quantity,
            "status": request.status, "exception_requested": request.exception_requested,
            "breaches": [b["code"] for b in request.breaches]}


@transaction.atomic
def create_request(user, *, listing, agency, quantity, justification, needed_by=None, exception_requested=False,
                   exception_justification="", idempotency_key=""):
    """Screen a request against the standards in force today and record it. Breaches are refused with
    every reason unless an exception is asked for with a justification (then the coordinator approves
    too). Where the region allocates first come, the request is allocated at once or refused with
    `AlreadyAllocated`. Returns (request, transfer or None)."""
    require(user, "request.create", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    # The row lock comes first so that concurrent requesters queue on the listing, not on each other.
    listing = locked(Listing.objects.select_related("asset__asset_class", "office_space", "region")).filter(
        pk=listing.pk).first()
    if listing is None:
        raise InvalidState(_("No such listing."), field="listingId", code="not_found")
    if agency.pk == listing.agency_id:
        raise ValidationFailed(_("An agency cannot request its own item."), field="agencyId")
    if listing.region_id not in regions_of(agency.jurisdiction):
        raise PermissionDenied(_("The agency is not in the listing's region."), field="agencyId")
    window = listing.window_at()
    if window == Listing.Window.JURISDICTION and listing.jurisdiction_id not in ancestry(agency.jurisdiction):
        raise PermissionDenied(_("Only agencies of the listing's jurisdiction may request it until %(at)s.")
                               % {"at": f"{timezone.localtime(listing.own_window_ends_at):%Y-%m-%d %H:%M}"},
                               field="listingId")
    if listing.status == Listing.Status.ALLOCATED:
        raise AlreadyAllocated(field="listingId")
    if listing.status != Listing.Status.OPEN:
        raise InvalidState(_("The listing is not open."), field="listingId")
    if window == Listing.Window.DISPOSAL:
        raise InvalidState(_("Screening has ended; the item is in the disposal window."), field="listingId")
    if quantity is None or not 1 <= quantity <= listing.quantity:
        raise ValidationFailed(_("The quantity must be between 1 and the quantity offered."), field="quantity")
    if quantity > listing.quantity_available:
        raise AlreadyAllocated(_("Only %(n)s left.") % {"n": listing.quantity_available}, field="quantity")
    justification = require_text(justification, "justification", _("A justification is required."))
    standards = _standards(listing.region)
    breaches = _breaches(standards, listing, agency, quantity)
    if breaches and not exception_requested:
        raise StandardsBreach(details=[{"field": b["field"], "code": "standards_breach",
                                        "message": f"[{b['code']}] {b['message']}"} for b in breaches])
    if exception_requested:
        exception_justification = require_text(exception_justification, "exceptionJustification",
                                               _("An exception needs its own justification."))
    request = TransferRequest.objects.create(
        listing=listing, agency=agency, quantity=quantity, justification=justification, needed_by=needed_by,
        exception_requested=bool(exception_requested), exception_justification=exception_justification or "",
        breaches=breaches, standard_set=standards, created_by=user, idempotency_key=idempotency_key or "")
    audit.record(user, "request.created", request, after=_request_snapshot(request) | {
        "standard_set": standards.pk, "window": window}, region=listing.region, jurisdiction=agency.jurisdiction)
    transfer = None
    if standards.allocation_mode == AllocationMode.FIRST_COME:
        transfer = allocate(user, request, quantity, reason=_("first come"), standards=standards)
    return request, transfer


def allocate(user, request, quantity, *, reason, standards=None):
    """Allocate `quantity` of the request's listing to it: one conditional UPDATE (never below zero,
    CHECK-backed), then the transfer and its parallel approval steps. Losers get `AlreadyAllocated`."""
    listing = request.listing
    taken = Listing.objects.filter(pk=listing.pk, status=Listing.Status.OPEN,
                                   quantity_available__gte=quantity).update(
        quantity_available=F("quantity_available") - quantity,
        status=Case(When(quantity_available=quantity, then=Value(Listing.Status.ALLOCATED)), default=F("status")))
    if not taken:
        raise AlreadyAllocated(field="listingId")
    listing.refresh_from_db(fields=["quantity_available", "status"])
    item = listing.asset or listing.office_space
    if listing.status == Listing.Status.ALLOCATED:
        item.status = type(item).Status.ALLOCATED
        item.save(update_fields=["status"])
    standards = standards or _standards(listing.region)
    giver, receiver = listing.agency, request.agency
    value = listing.asset.original_value * quantity if listing.asset_id else 0
    transfer = Transfer.objects.create(
        request=request, listing=listing, region=listing.region, giver=giver, receiver=receiver,
        giver_jurisdiction_id=giver.jurisdiction_id, receiver_jurisdiction_id=receiver.jurisdiction_id,
        quantity=quantity, value=value, distance_km=km_between(giver.location, receiver.location),
        allocation_reason=reason)
    request.status = TransferRequest.Status.ALLOCATED
    request.save(update_fields=["status"])
    audit.record(user, "transfer.allocated", transfer, before={"quantity_available": listing.quantity_available
                                                               + quantity},
                 after={"quantity_available": listing.quantity_available, "request": request.pk,
                        "quantity": quantity, "value": value, "reason": reason},
                 transfer=transfer, region=listing.region, jurisdiction=receiver.jurisdiction)
    open_steps(user, transfer, standards)
    return transfer


def open_steps(user, transfer, standards):
    """Open the approval steps at once, in parallel: giving bureau, receiving bureau, and the regional
    coordinator when an exception was asked for or the value exceeds the region's threshold."""
    now = timezone.now()
    due = add_working_days(now, standards.approval_working_days)
    yellow = now + (due - now) * 2 / 3
    kinds = [(ApprovalStep.Kind.GIVING_BUREAU, {"jurisdiction_id": transfer.giver_jurisdiction_id}),
             (ApprovalStep.Kind.RECEIVING_BUREAU, {"jurisdiction_id": transfer.receiver_jurisdiction_id})]
    if transfer.request.exception_requested or transfer.value > standards.coordinator_threshold:
        kinds.append((ApprovalStep.Kind.COORDINATOR, {"region_id": transfer.region_id}))
    steps = ApprovalStep.objects.bulk_create(
        ApprovalStep(transfer=transfer, kind=kind, opened_at=now, yellow_at=yellow, due_at=due, **scope)
        for kind, scope in kinds)
    audit.record(user, "approval.opened", transfer, after={"steps": [s.kind for s in steps], "due_at": due},
                 transfer=transfer, region=transfer.region)
    return steps


# --- window-close allocation -----------------------------------------------------------------------
def first_come_plan(listings, requests):
    """Allocation plan: first come within the window by created_at. Planners take (listings, requests)
    and return [(request, quantity, reason)]; `exchange.services.optimizer.plan` may provide another."""
    left = {listing.pk: listing.quantity_available for listing in listings}
    plan = []
    for request in sorted(requests, key=lambda r: (r.created_at, r.pk)):
        if left.get(request.listing_id, 0) >= request.quantity:
            left[request.listing_id] -= request.quantity
            plan.append((request, request.quantity, _("first come within the window")))
    return plan


def _planner(mode):
    if mode == AllocationMode.OPTIMIZED:
        try:
            from exchange.services import optimizer
        except ImportError:
            optimizer = None
        if optimizer is not None and hasattr(optimizer, "plan"):
            return optimizer.plan
    return first_come_plan


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
        raise InvalidState(_("The listing is not open."), field="listingId")
    if now < listing.own_window_ends_at:
        raise InvalidState(_("The screening window has not closed yet."), field="listingId")
    candidates = listing.requests.filter(status=TransferRequest.Status.PENDING).select_related("agency")
    if now < listing.region_window_ends_at:
        candidates = candidates.filter(created_at__lt=listing.own_window_ends_at)
    candidates = list(candidates)
    standards = _standards(listing.region)
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
        audit.record(user, "request.not_allocated", listing, after={"requests": losers}, region=listing.region,
                     jurisdiction=listing.jurisdiction)
    return transfers


# --- approvals -------------------------------------------------------------------------------------
def _return_quantity(transfer):
    """Give the transfer's quantity back to its listing (reopening a fully allocated one)."""
    Listing.objects.filter(pk=transfer.listing_id).update(
        quantity_available=F("quantity_available") + transfer.quantity,
        status=Case(When(status=Listing.Status.ALLOCATED, then=Value(Listing.Status.OPEN)), default=F("status")))
    listing = Listing.objects.select_related("asset", "office_space").get(pk=transfer.listing_id)
    item = listing.asset or listing.office_space
    if listing.status == Listing.Status.OPEN:
        item.status = type(item).Status.LISTED
    elif listing.quantity_available == listing.quantity:
        item.status = type(item).Status.IDLE
    item.save(update_fields=["status"])


def _close_pending(transfer):
    transfer.steps.filter(decision=ApprovalStep.Decision.PENDING).update(
        decision=ApprovalStep.Decision.CLOSED, decided_at=timezone.now())


@transaction.atomic
def decide_step(user, step, *, approve, reason=""):
    """Decide one parallel step. A refusal ends the transfer (reason required) and returns its quantity;
    the last approval moves it to handover."""
    principal = require(user, "approval.decide", step)
    own = (step.region_id in principal.coordinator_regions if step.kind == ApprovalStep.Kind.COORDINATOR
           else step.jurisdiction_id in principal.bureau_jurisdictions)
    if not own:
        raise PermissionDenied(_("This step belongs to another authority."), field="stepId")
    transfer = locked(Transfer.objects.select_related("region")).get(pk=step.transfer_id)
    step = ApprovalStep.objects.get(pk=step.pk)
    if transfer.status != Transfer.Status.APPROVING or step.decision != ApprovalStep.Decision.PENDING:
        raise InvalidState(_("This step is no longer open."), field="stepId")
    if not approve:
        reason = require_text(reason, "reason", _("A refusal needs a reason."))
    now = timezone.now()
    light = step.light_at(now)
    step.decision = ApprovalStep.Decision.APPROVED if approve else ApprovalStep.Decision.REFUSED
    step.decided_at, step.decided_by, step.reason = now, user, reason or ""
    step.save(update_fields=["decision", "decided_at", "decided_by", "reason"])
    audit.record(user, f"approval.{step.decision}", step, before={"decision": "pending", "light": light},
                 after={"decision": step.decision, "reason": step.reason, "kind": step.kind}, transfer=transfer,
                 region=transfer.region, jurisdiction=step.jurisdiction)
    if not approve:
        transfer.status, transfer.status_reason = Transfer.Status.REFUSED, reason
        transfer.save(update_fields=["status", "status_reason"])
        _close_pending(transfer)
        _return_quantity(transfer)
        transfer.request.status = TransferRequest.Status.NOT_ALLOCATED
        transfer.request.save(update_fields=["status"])
        audit.record(user, "transfer.refused", transfer, before={"status": "approving"},
                     after={"status": transfer.status, "reason": reason, "step": step.kind}, transfer=transfer,
                     region=transfer.region)
    elif not transfer.steps.exclude(decision=ApprovalStep.Decision.APPROVED).exists():
        transfer.status, transfer.approved_at = Transfer.Status.HANDOVER, now
        transfer.save(update_fields=["status", "approved_at"])
        audit.record(user, "transfer.approved", transfer, before={"status": "approving"},
                     after={"status": transfer.status}, transfer=transfer, region=transfer.region)
    return step


# --- cancellation, withdrawal, handover ------------------------------------------------------------
def _side_scope(transfer, side):
    if side == "giver":
        return Scope(region_id=transfer.region_id, jurisdiction_id=transfer.giver_jurisdiction_id,
                     agency_id=transfer.giver_id)
    return transfer.permission_scope()


@transaction.atomic
def cancel_transfer(user, transfer, *, reason):
    """Cancel before handover, by either side or the coordinator, with a reason; the quantity returns."""
    try:
        require(user, "transfer.cancel", _side_scope(transfer, "receiver"))
        side = "receiver"
    except PermissionDenied:
        require(user, "transfer.cancel", _side_scope(transfer, "giver"))
        side = "giver"
    reason = require_text(reason, "reason", _("A cancellation needs a reason."))
    transfer = locked(Transfer.objects.select_related("region", "request")).get(pk=transfer.pk)
    if transfer.status not in (Transfer.Status.APPROVING, Transfer.Status.HANDOVER):
        raise InvalidState(_("Only a transfer before handover can be cancelled."), field="transferId")
    before = transfer.status
    transfer.status, transfer.status_reason = Transfer.Status.CANCELLED, reason
    transfer.save(update_fields=["status", "status_reason"])
    _close_pending(transfer)
    _return_quantity(transfer)
    transfer.request.status = TransferRequest.Status.WITHDRAWN
    transfer.request.save(update_fields=["status"])
    audit.record(user, "transfer.cancelled", transfer, before={"status": before},
                 after={"status": transfer.status, "reason": reason, "side": side}, transfer=transfer,
                 region=transfer.region)
    return transfer


@transaction.atomic
def withdraw_request(user, request, *, reason):
    """Withdraw a request not yet allocated (an allocated one is cancelled through its transfer)."""
    require(user, "request.withdraw", request)
    reason = require_text(reason, "reason", _("A withdrawal needs a reason."))
    request = locked(TransferRequest.objects.select_related("listing__region")).get(pk=request.pk)
    if request.status != TransferRequest.Status.PENDING:
        raise InvalidState(_("Only a pending request can be withdrawn; cancel its transfer instead."),
                           field="requestId")
    request.status = TransferRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    audit.record(user, "request.withdrawn", request, before={"status": "pending"},
                 after={"status": request.status, "reason": reason}, region=request.listing.region)
    return request


CERTIFICATE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _certificate_code(transfer):
    """A random 12-character code (60 bits): the verify endpoint is public, so codes must not be guessable."""
    return "".join(secrets.choice(CERTIFICATE_ALPHABET) for _ in range(12))


@transaction.atomic
def confirm_handover(user, transfer, *, received_quantity, received_condition, note=""):
    """The receiving agency confirms what it received; ownership moves, the transfer completes and the
    ledger posts the compensation, all in this transaction."""
    from ledger.services import on_transfer_completed

    require(user, "handover.confirm", Scope(jurisdiction_id=transfer.receiver_jurisdiction_id,
                                            agency_id=transfer.receiver_id))
    transfer = locked(Transfer.objects.select_related(
        "region", "receiver", "listing__asset__asset_class", "listing__office_space")).get(pk=transfer.pk)
    if transfer.status != Transfer.Status.HANDOVER:
        raise InvalidState(_("The transfer is not awaiting handover."), field="transferId")
    if received_quantity is None or not 1 <= received_quantity <= transfer.quantity:
        raise ValidationFailed(_("The quantity received must be between 1 and the quantity allocated."),
                               field="receivedQuantity")
    if received_condition not in Condition.values:
        raise ValidationFailed(_("Unknown condition."), field="receivedCondition")
    listing, receiver, now = transfer.listing, transfer.receiver, timezone.now()
    if listing.asset_id:
        given = locked(Asset.objects).get(pk=listing.asset_id)
        received = Asset.objects.create(
            agency=receiver, asset_class_id=given.asset_class_id, description=given.description,
            quantity=received_quantity, unit=given.unit, original_value=given.original_value,
            acquired_on=given.acquired_on, condition=received_condition, location=receiver.location)
        if given.quantity <= transfer.quantity:
            given.status = Asset.Status.TRANSFERRED
        else:
            given.quantity -= transfer.quantity
        given.save(update_fields=["status", "quantity"])
        transfer.received_asset = received
        moved = {"giver_asset": given.pk, "giver_status": given.status, "receiver_asset": received.pk}
    else:
        space = locked(OfficeSpace.objects).get(pk=listing.office_space_id)
        before_agency = space.agency_id
        space.agency, space.status = receiver, OfficeSpace.Status.OCCUPIED
        space.save(update_fields=["agency", "status"])
        moved = {"office_space": space.pk, "from_agency": before_agency, "to_agency": receiver.pk}
    transfer.status, transfer.completed_at = Transfer.Status.COMPLETED, now
    transfer.received_quantity, transfer.received_condition = received_quantity, received_condition
    transfer.status_reason = note or ""
    transfer.certificate_code = _certificate_code(transfer)
    transfer.save(update_fields=["status", "completed_at", "received_quantity", "received_condition",
                                 "received_asset", "status_reason", "certificate_code"])
    if listing.quantity_available == 0 and not listing.transfers.filter(
            status__in=[Transfer.Status.APPROVING, Transfer.Status.HANDOVER]).exists():
        Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.CLOSED)
    audit.record(user, "transfer.completed", transfer, before={"status": "handover"},
                 after={"status": transfer.status, "received_quantity": received_quantity,
                        "received_condition": received_condition, "note": note, **moved,
                        "certificate_code": transfer.certificate_code},
                 transfer=transfer, region=transfer.region, jurisdiction=receiver.jurisdiction)
    on_transfer_completed(transfer, user)
    return transfer
