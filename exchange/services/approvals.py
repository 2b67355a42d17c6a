"""Approval steps: opened in parallel when a transfer is allocated, with working-day deadlines, decided one
by one; a refusal ends the transfer and gives its quantity back, the last approval moves it to handover."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import ApprovalStep, Transfer, TransferRequest
from exchange.services import stock
from exchange.services.common import locked, require_text
from kernel import audit
from kernel.errors import InvalidState, PermissionDenied
from kernel.workdays import add_working_days
from regions.permissions import require
from regions.services import duties


def open_steps(user, transfer, standards):
    """Open the approval steps at once, in parallel: giving bureau, receiving bureau, and the regional
    coordinator when an exception was asked for or the value exceeds the region's threshold. Between two
    agencies of one jurisdiction its bureau decides once (one giving-bureau step), not twice."""
    now = timezone.now()
    due = add_working_days(now, standards.approval_working_days)
    times = ApprovalStep.schedule(now, due)
    kinds = [(ApprovalStep.Kind.GIVING_BUREAU, {"jurisdiction_id": transfer.giver_jurisdiction_id})]
    if transfer.receiver_jurisdiction_id != transfer.giver_jurisdiction_id:
        kinds.append((ApprovalStep.Kind.RECEIVING_BUREAU, {"jurisdiction_id": transfer.receiver_jurisdiction_id}))
    if transfer.request.exception_requested or transfer.value > standards.coordinator_threshold:
        kinds.append((ApprovalStep.Kind.COORDINATOR, {"region_id": transfer.region_id}))
    steps = ApprovalStep.objects.bulk_create(
        ApprovalStep(transfer=transfer, kind=kind, **times, **scope)
        for kind, scope in kinds)
    for step in steps:
        duties.open_duty(step, duties.Stage.APPROVAL, action="approval.decide", region_id=transfer.region_id,
                         jurisdiction_id=step.jurisdiction_id, **times)
    audit.record(user, "approval.opened", transfer, after={"steps": [s.kind for s in steps], "due_at": due},
                 transfer=transfer, region=transfer.region)
    return steps


def close_pending(transfer):
    now = timezone.now()
    pending = list(transfer.steps.filter(decision=ApprovalStep.Decision.PENDING).values_list("pk", flat=True))
    ApprovalStep.objects.filter(pk__in=pending).update(decision=ApprovalStep.Decision.CLOSED, decided_at=now)
    duties.close_duties(ApprovalStep, pending, duties.Stage.APPROVAL, now)
    duties.close_duty(transfer, duties.Stage.HANDOVER, now)


def open_handover(transfer, now):
    """The handover stage: the receiving agency (or its bureau) confirms within the standard's time limit."""
    duties.open_duty(transfer, duties.Stage.HANDOVER, action="handover.confirm", region_id=transfer.region_id,
                     jurisdiction_id=transfer.receiver_jurisdiction_id, agency_id=transfer.receiver_id,
                     opened_at=now, working_days=duties.standard_days(transfer.region, "handover_working_days"))


def check_separation_of_duties(user, transfer, step, approve):
    """No one approves a transfer they set in motion (the request, or the listing it takes from), and no one
    decides two steps of the same transfer, whatever roles they hold (a provincial bureau over both cities,
    a coordinator who is also a bureau manager) and whether in person or through their API tokens."""
    if approve and user.pk in (transfer.request.created_by_id, transfer.listing.created_by_id):
        raise PermissionDenied(_("You made this request or listing; another person of the authority must "
                                 "approve it."), field="step_id")
    if transfer.steps.filter(decided_by_id=user.pk).exclude(pk=step.pk).exists():
        raise PermissionDenied(_("You have already decided another step of this transfer; each step is decided "
                                 "by a different person."), field="step_id")


def may_decide(user, step):
    """Separation of duties only (the authority is checked by the caller): whether the user may approve it."""
    try:
        check_separation_of_duties(user, step.transfer, step, True)
    except PermissionDenied:
        return False
    return True


@transaction.atomic
def decide_step(user, step, *, approve, reason=""):
    """Decide one parallel step. A refusal ends the transfer (reason required) and returns its quantity;
    the last approval moves it to handover."""
    principal = require(user, "approval.decide", step)
    own = (step.region_id in principal.coordinator_regions if step.kind == ApprovalStep.Kind.COORDINATOR
           else step.jurisdiction_id in principal.bureau_jurisdictions)
    if not own:
        raise PermissionDenied(_("This step belongs to another authority."), field="step_id")
    transfer = locked(Transfer.objects.select_related("region", "request", "listing")).get(pk=step.transfer_id)
    step = ApprovalStep.objects.get(pk=step.pk)
    if transfer.status != Transfer.Status.APPROVING or step.decision != ApprovalStep.Decision.PENDING:
        raise InvalidState(_("This step is no longer open."), field="step_id")
    check_separation_of_duties(user, transfer, step, approve)
    if not approve:
        reason = require_text(reason, "reason", _("A refusal needs a reason."))
    now = timezone.now()
    light = step.light_at(now)
    step.decision = ApprovalStep.Decision.APPROVED if approve else ApprovalStep.Decision.REFUSED
    step.decided_at, step.decided_by, step.reason = now, user, reason or ""
    step.save(update_fields=["decision", "decided_at", "decided_by", "reason"])
    duties.close_duty(step, duties.Stage.APPROVAL, now)
    audit.record(user, f"approval.{step.decision}", step, before={"decision": "pending", "light": light},
                 after={"decision": step.decision, "reason": step.reason, "kind": step.kind}, transfer=transfer,
                 region=transfer.region, jurisdiction=step.jurisdiction)
    if not approve:
        transfer.status, transfer.status_reason = Transfer.Status.REFUSED, reason
        transfer.save(update_fields=["status", "status_reason"])
        close_pending(transfer)
        stock.give_back(transfer)
        transfer.request.status = TransferRequest.Status.NOT_ALLOCATED
        transfer.request.save(update_fields=["status"])
        audit.record(user, "transfer.refused", transfer, before={"status": "approving"},
                     after={"status": transfer.status, "reason": reason, "step": step.kind}, transfer=transfer,
                     region=transfer.region)
    elif not transfer.steps.exclude(decision=ApprovalStep.Decision.APPROVED).exists():
        transfer.status, transfer.approved_at = Transfer.Status.HANDOVER, now
        transfer.save(update_fields=["status", "approved_at"])
        open_handover(transfer, now)
        audit.record(user, "transfer.approved", transfer, before={"status": "approving"},
                     after={"status": transfer.status}, transfer=transfer, region=transfer.region)
    return step
