"""Who hears of what: every change of state is written to the audit trail inside its service's
transaction, and this module, subscribed to new audit events, turns the ones people wait for into
inbox notifications (and emails) in that same transaction. Keys make each notice once-only."""
from django.urls import reverse
from django.utils import timezone

from exchange.models import ApprovalStep, Transfer, TransferRequest
from exchange.services import reminders
from lifecycle.models import Disposal, PurchaseRequest
from lifecycle.services import loans, wants, webhooks
from notifications.models import Notification
from notifications.services import notify
from regions.models import Role, RoleBinding

Kind = Notification.Kind


def step_deciders(step):
    return list(reminders.deciders(step).values_list("user_id", flat=True))


def agency_staff(agency_id, *also):
    return [*RoleBinding.objects.filter(role=Role.AGENCY_STAFF, agency_id=agency_id)
            .values_list("user_id", flat=True), *also]


def _due(when):
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M}"


def _transfer_url(transfer_id):
    return reverse("web:transfer", args=[transfer_id])


def _steps_opened(event):
    transfer = Transfer.objects.select_related("listing").get(pk=event.object_id)
    for step in transfer.steps.filter(decision=ApprovalStep.Decision.PENDING):
        notify(step_deciders(step), Kind.STEP_OPENED, key=f"step:{step.pk}:opened", url=reverse("web:approvals"),
               params={"transfer": transfer.pk, "title": transfer.listing.title, "due": _due(step.due_at)})


def _step_light(event):
    light = (event.after or {}).get("last_reminded_light")
    step = ApprovalStep.objects.select_related("transfer__listing").get(pk=event.object_id)
    kind = {"yellow": Kind.STEP_YELLOW, "red": Kind.STEP_RED}.get(light)
    if kind:
        notify(step_deciders(step), kind, key=f"step:{step.pk}:{light}", url=reverse("web:approvals"),
               email=False,  # the reminder service has emailed the deciders already
               params={"transfer": step.transfer_id, "title": step.transfer.listing.title,
                       "due": _due(step.due_at)})


def _allocated(event):
    transfer = Transfer.objects.select_related("listing", "request").get(pk=event.object_id)
    request = transfer.request
    notify(agency_staff(request.agency_id, request.created_by_id), Kind.REQUEST_ALLOCATED,
           key=f"request:{request.pk}:allocated", url=_transfer_url(transfer.pk),
           params={"title": transfer.listing.title, "transfer": transfer.pk})


def _refused(requests, reason):
    for request in requests:
        notify(agency_staff(request.agency_id, request.created_by_id), Kind.REQUEST_REFUSED,
               key=f"request:{request.pk}:refused", url=reverse("web:my_requests"),
               params={"title": request.listing.title, "reason": reason})


def _not_allocated(event):
    ids = (event.after or {}).get("requests") or []
    _refused(TransferRequest.objects.filter(pk__in=ids).select_related("listing"), "")


def _transfer_refused(event):
    transfer = Transfer.objects.select_related("request__listing").get(pk=event.object_id)
    _refused([transfer.request], transfer.status_reason)


def _approved(event):
    transfer = Transfer.objects.select_related("listing", "request").get(pk=event.object_id)
    notify(agency_staff(transfer.receiver_id, transfer.request.created_by_id), Kind.HANDOVER_AWAITING,
           key=f"transfer:{transfer.pk}:handover", url=_transfer_url(transfer.pk),
           params={"transfer": transfer.pk, "title": transfer.listing.title})


def _disposal(event):
    return Disposal.objects.select_related("asset", "agency").get(pk=event.object_id)


def _disposal_opened(event):
    d = _disposal(event)
    notify(agency_staff(d.agency_id), Kind.DISPOSAL_PENDING, key=f"disposal:{d.pk}:opened",
           url=reverse("lifecycle:disposals"), params={"title": d.asset.description, "disposal": d.pk})


def _disposal_proposed(event):
    d = _disposal(event)
    managers = RoleBinding.objects.filter(role=Role.BUREAU_MANAGER, jurisdiction_id=d.jurisdiction_id)
    notify(managers.values_list("user_id", flat=True), Kind.DISPOSAL_PROPOSED,
           key=f"disposal:{d.pk}:proposed:{event.pk}", url=reverse("lifecycle:disposals"),
           params={"title": d.asset.description, "agency": d.agency.name_zh, "method": d.method, "disposal": d.pk})


def _disposal_decided(event):
    d = _disposal(event)
    decision = "approved" if event.action == "disposal.approved" else "refused"
    notify(agency_staff(d.agency_id, d.proposed_by_id), Kind.DISPOSAL_DECIDED, key=f"disposal:{d.pk}:{event.pk}",
           url=reverse("lifecycle:disposals"),
           params={"title": d.asset.description, "decision": decision, "disposal": d.pk})


def _purchase_answered(event):
    purchase = PurchaseRequest.objects.select_related("asset_class").get(pk=event.object_id)
    notify(agency_staff(purchase.agency_id, purchase.created_by_id), Kind.PURCHASE_ANSWERED,
           key=f"purchase:{purchase.pk}:{purchase.outcome}", url=reverse("lifecycle:purchases"),
           params={"purchase": purchase.code, "class_code": purchase.asset_class.code,
                   "quantity": purchase.quantity, "outcome": purchase.outcome})


HANDLERS = {
    "loan.requested": [loans.on_loan_requested],
    "loan.returned": [loans.on_loan_returned],
    "purchase.checked": [_purchase_answered],
    "purchase.exception_granted": [_purchase_answered],
    "listing.opened": [wants.on_listing_opened],
    "disposal.opened": [_disposal_opened],
    "disposal.proposed": [_disposal_proposed],
    "disposal.approved": [_disposal_decided],
    "disposal.refused": [_disposal_decided],
    "approval.opened": [_steps_opened],
    "approval.reminded": [_step_light],
    "transfer.allocated": [_allocated],
    "request.not_allocated": [_not_allocated],
    "transfer.refused": [_transfer_refused],
    "transfer.approved": [_approved],
}


def register(action, handler):
    """Let another module of the lifecycle hear of an audit action (wants, loans, disposal, webhooks)."""
    handlers = HANDLERS.setdefault(action, [])
    if handler not in handlers:
        handlers.append(handler)


def on_audit_event(sender, instance, created, **kwargs):
    if created:
        for handler in HANDLERS.get(instance.action, ()):
            handler(instance)
        webhooks.on_audit_event(instance)
