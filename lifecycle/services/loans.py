"""Loans (借管还: lend, manage, return). An agency offers an asset for loan; another agency of the region
requests units for a number of days; the two bureaus approve in parallel (any refusal ends it) within the
standard's approval deadline in working days, with the lights of a transfer's approval steps (each bureau
still to decide is notified when the request opens, turns yellow and turns red); the borrower
confirms the handout, which starts the period (due date with lights: yellow after two thirds, red when
overdue, each notified once); the owner confirms the return with the condition; the fee (units × days ×
the class's loan fee per unit and day in the standard in force) is posted to the ledger, borrower's
settling account debited, lender's credited. Ownership never moves."""
import math
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Asset, Condition
from exchange.services.common import locked, region_for, require_text
from exchange.services.reminders import bureau_deciders
from kernel import audit, deadlines
from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from kernel.money import cny
from ledger.models import JournalTransaction
from ledger.services.posting import compensation_account, post
from lifecycle.models import Loan, LoanOffer
from notifications.models import Notification
from notifications.services import notify
from regions.membership import member_of, regions_of
from regions.models import Region, Role, RoleBinding
from regions.permissions import Scope, get_principal, require
from regions.services.standards import standard_in_force


def _staff(agency_id):
    return list(RoleBinding.objects.filter(role=Role.AGENCY_STAFF, agency_id=agency_id)
                .values_list("user_id", flat=True))


@transaction.atomic
def offer_for_loan(user, *, asset, quantity=None, max_days=30):
    """Offer (units of) an asset in use or idle for loan."""
    asset = locked(Asset.objects.select_related("agency__jurisdiction")).get(pk=asset.pk)
    require(user, "loan.offer", asset)
    if asset.status not in (Asset.Status.IN_USE, Asset.Status.IDLE):
        raise InvalidState(_("Only an asset in use or idle can be offered for loan."), field="asset_id")
    quantity = asset.quantity if quantity is None else quantity
    if not 1 <= quantity <= asset.quantity:
        raise ValidationFailed(_("The quantity offered must be between 1 and the asset's quantity."),
                               field="quantity")
    if max_days is None or not 1 <= max_days <= 366:
        raise ValidationFailed(_("A loan lasts 1 to 366 days."), field="max_days")
    if LoanOffer.objects.filter(asset=asset, status=LoanOffer.Status.OPEN).exists():
        raise InvalidState(_("The asset is already offered for loan."), field="asset_id")
    region = Region.objects.get(pk=region_for(asset.agency.jurisdiction))
    offer = LoanOffer.objects.create(asset=asset, agency=asset.agency, region=region, quantity=quantity,
                                     max_days=max_days, created_by=user)
    audit.record(user, "loan.offered", offer, after={"asset": asset.pk, "quantity": quantity, "max_days": max_days},
                 region=region, jurisdiction=asset.agency.jurisdiction)
    return offer


def _lent(offer):
    return (offer.loans.filter(status__in=[Loan.Status.REQUESTED, Loan.Status.APPROVED, Loan.Status.OUT])
            .aggregate(n=Sum("quantity"))["n"] or 0)


@transaction.atomic
def request_loan(user, *, offer, borrower, quantity, days, reason):
    require(user, "request.create", Scope(jurisdiction_id=borrower.jurisdiction_id, agency_id=borrower.pk))
    offer = locked(LoanOffer.objects.select_related("agency", "asset", "region")).get(pk=offer.pk)
    if offer.status != LoanOffer.Status.OPEN:
        raise InvalidState(_("The item is no longer offered for loan."), field="offer_id")
    if borrower.pk == offer.agency_id:
        raise ValidationFailed(_("An agency cannot borrow its own item."), field="agency_id")
    if offer.region_id not in regions_of([borrower.jurisdiction_id]):
        raise PermissionDenied(_("The agency is not in the offer's region."), field="agency_id")
    if days is None or not 1 <= days <= offer.max_days:
        raise ValidationFailed(_("The loan period must be between 1 and %(n)s days.") % {"n": offer.max_days},
                               field="days")
    if quantity is None or quantity < 1 or quantity > offer.quantity - _lent(offer):
        raise ValidationFailed(_("Only %(n)s units are free to lend.") % {"n": offer.quantity - _lent(offer)},
                               field="quantity")
    reason = require_text(reason, "reason", _("A loan needs a reason."))
    now = timezone.now()
    standards = standard_in_force(offer.region, timezone.localdate(now))
    yellow, due = deadlines.clock(now, standards.approval_working_days)
    loan = Loan.objects.create(offer=offer, lender=offer.agency, borrower=borrower, region=offer.region,
                               quantity=quantity, days=days, reason=reason, created_by=user, created_at=now,
                               approval_yellow_at=yellow, approval_due_at=due)
    audit.record(user, "loan.requested", loan, after={"offer": offer.pk, "quantity": quantity, "days": days,
                                                      "approval_due_at": due},
                 region=offer.region, jurisdiction=borrower.jurisdiction)
    return loan


def _locked(loan):
    return locked(Loan.objects.select_related("lender__jurisdiction", "borrower__jurisdiction", "region",
                                              "offer__asset__asset_class")).get(pk=loan.pk)


@transaction.atomic
def decide_loan(user, loan, *, approve, reason=""):
    """A bureau decides its side (the lender's or the borrower's jurisdiction), in parallel with the other;
    a refusal (with a reason) ends the loan, the second approval readies the handout."""
    principal = get_principal(user)
    loan = _locked(loan)
    sides = [side for side, agency in (("lender", loan.lender), ("borrower", loan.borrower))
             if agency.jurisdiction_id in principal.bureau_jurisdictions and principal.can_write]
    if not sides:
        raise PermissionDenied(field="loan_id")
    if loan.status != Loan.Status.REQUESTED:
        raise InvalidState(_("This loan awaits no decision."), field="loan_id")
    open_sides = [s for s in sides if getattr(loan, f"{s}_decision") == Loan.Decision.PENDING]
    if not open_sides:
        raise InvalidState(_("Your side has decided already."), field="loan_id")
    if not approve:
        reason = require_text(reason, "reason", _("A refusal needs a reason."))
    light = loan.approval_light_at()
    for side in open_sides:
        setattr(loan, f"{side}_decision", Loan.Decision.APPROVED if approve else Loan.Decision.REFUSED)
    if not approve:
        loan.status, loan.decision_reason = Loan.Status.REFUSED, reason
    elif loan.lender_decision == loan.borrower_decision == Loan.Decision.APPROVED:
        loan.status = Loan.Status.APPROVED
    loan.save(update_fields=["lender_decision", "borrower_decision", "status", "decision_reason"])
    audit.record(user, "loan.approved" if approve else "loan.refused", loan,
                 before={"light": light}, after={"sides": open_sides, "status": loan.status, "reason": reason or ""},
                 region=loan.region, jurisdiction=loan.borrower.jurisdiction)
    return loan


@transaction.atomic
def confirm_handout(user, loan):
    """The borrower confirms it has received the units: the period starts now."""
    require(user, "handover.confirm", Scope(jurisdiction_id=loan.borrower.jurisdiction_id, agency_id=loan.borrower_id))
    loan = _locked(loan)
    if loan.status != Loan.Status.APPROVED:
        raise InvalidState(_("The loan is not approved for handout."), field="loan_id")
    now = timezone.now()
    loan.status, loan.out_at, loan.due_at = Loan.Status.OUT, now, now + timedelta(days=loan.days)
    loan.yellow_at = deadlines.yellow_from(now, loan.due_at)
    loan.save(update_fields=["status", "out_at", "due_at", "yellow_at"])
    audit.record(user, "loan.out", loan, after={"out_at": now, "due_at": loan.due_at},
                 region=loan.region, jurisdiction=loan.borrower.jurisdiction)
    return loan


def loan_fee(loan, returned_at):
    """units × days on loan (started days count, at least 1) × the class's fee per unit and day in the
    standard in force on the return date; 0 where the standard sets no fee. Rounded half-up once."""
    days = max(1, math.ceil((returned_at - loan.out_at) / timedelta(days=1)))
    standards = standard_in_force(loan.region, timezone.localdate(returned_at))
    norm = standards.class_norms.filter(class_code=loan.offer.asset.asset_class.code).first()
    rate = norm.loan_fee_per_day if norm is not None and norm.loan_fee_per_day is not None else 0
    return cny(rate * loan.quantity * days), days, rate


@transaction.atomic
def confirm_return(user, loan, *, condition, note=""):
    """The owner confirms the units are back, with their condition; the fee is posted to the ledger."""
    require(user, "handover.confirm", Scope(jurisdiction_id=loan.lender.jurisdiction_id, agency_id=loan.lender_id))
    loan = _locked(loan)
    if loan.status != Loan.Status.OUT:
        raise InvalidState(_("The loan is not out."), field="loan_id")
    if condition not in Condition.values:
        raise ValidationFailed(_("Unknown condition."), field="condition")
    now = timezone.now()
    fee, days, rate = loan_fee(loan, now)
    loan.status, loan.returned_at, loan.returned_condition, loan.fee = Loan.Status.RETURNED, now, condition, fee
    loan.save(update_fields=["status", "returned_at", "returned_condition", "fee"])
    asset = locked(Asset.objects).get(pk=loan.offer.asset_id)
    if condition != asset.condition:
        asset.condition = condition
        asset.save(update_fields=["condition"])
    audit.record(user, "loan.returned", loan, after={"returned_at": now, "condition": condition, "days": days,
                                                     "rate": rate, "fee": fee, "note": note or ""},
                 region=loan.region, jurisdiction=loan.lender.jurisdiction)
    _post_fee(user, loan, fee, days, rate)
    return loan


def _post_fee(user, loan, fee, days, rate):
    region = loan.region
    payer, payee = member_of(region, loan.borrower.jurisdiction), member_of(region, loan.lender.jurisdiction)
    if not fee or payer is None or payee is None or payer.pk == payee.pk:
        return None
    txn, created = post(region, on=timezone.localdate(loan.returned_at), kind=JournalTransaction.Kind.LOAN_FEE,
                        key=f"loan:{loan.pk}:fee",
                        description=f"出借费 loan fee #{loan.pk}: {loan.quantity} × {days} d × {rate}",
                        legs=[(compensation_account(region, payer), "debit", fee),
                              (compensation_account(region, payee), "credit", fee)])
    if created:
        audit.record(user, "ledger.loan_fee_posted", txn, after={"loan": loan.pk, "amount": fee},
                     region=region, jurisdiction=payer)
    return txn


def send_loan_lights(now=None):
    """Notify the borrower once when a loan turns yellow (due soon) and once when it turns red (overdue,
    the lender too); each light is claimed by a conditional UPDATE first, so re-runs notify nobody twice.
    Returns the number of loans whose light was notified."""
    now = now or timezone.now()
    due = (Loan.objects.filter(status=Loan.Status.OUT).filter(Q(due_at__lte=now) | Q(yellow_at__lte=now))
           .select_related("offer__asset"))
    sent = 0
    for loan in due:
        light = loan.light_at(now)
        if light == loan.last_light or (light == "yellow" and loan.last_light == "red"):
            continue
        with transaction.atomic():
            if not Loan.objects.filter(pk=loan.pk, status=Loan.Status.OUT).exclude(last_light=light).exclude(
                    last_light="red").update(last_light=light):
                continue
            kind = Notification.Kind.LOAN_OVERDUE if light == "red" else Notification.Kind.LOAN_DUE
            recipients = _staff(loan.borrower_id) + (_staff(loan.lender_id) if light == "red" else [])
            notify(recipients + [loan.created_by_id], kind, key=f"loan:{loan.pk}:{light}",
                   url=reverse("lifecycle:loans"),
                   params={"loan": loan.pk, "title": loan.offer.asset.description,
                           "due": f"{timezone.localtime(loan.due_at):%Y-%m-%d %H:%M}"})
            audit.record(None, "loan.light", loan, after={"light": light}, region=loan.region, role="system")
        sent += 1
    return sent


def _pending_deciders(loan):
    """Users who decide a side of the loan still pending: managers of the lender's / borrower's bureau."""
    sides = [(loan.lender_decision, loan.lender), (loan.borrower_decision, loan.borrower)]
    jurisdictions = {agency.jurisdiction_id for decision, agency in sides if decision == Loan.Decision.PENDING}
    return sorted({pk for j in jurisdictions for pk in bureau_deciders(j).values_list("user_id", flat=True)})


def _approval_params(loan):
    return {"loan": loan.pk, "title": loan.offer.asset.description, "borrower": loan.borrower.name_zh,
            "due": f"{timezone.localtime(loan.approval_due_at):%Y-%m-%d %H:%M}"}


def on_loan_requested(event):
    loan = Loan.objects.select_related("offer__asset", "lender", "borrower").get(pk=event.object_id)
    notify(_pending_deciders(loan), Notification.Kind.LOAN_APPROVAL_OPENED, key=f"loan:{loan.pk}:approval",
           url=reverse("lifecycle:loans"), params=_approval_params(loan))


def send_loan_approval_lights(now=None):
    """Notify the bureaus that have not decided yet once when the decision turns yellow and once when it
    turns red (the transfer steps' lights, from the working-day deadline set at the request); claimed by a
    conditional UPDATE first, so re-runs notify nobody twice. Returns the number of loans notified."""
    now = now or timezone.now()
    due = (Loan.objects.annotate(light=Loan.approval_light_expression(now))
           .filter(light__in=[deadlines.YELLOW, deadlines.RED]).exclude(last_approval_light=F("light"))
           .exclude(last_approval_light=deadlines.RED).select_related("offer__asset", "lender", "borrower"))
    kinds = {deadlines.YELLOW: Notification.Kind.LOAN_APPROVAL_YELLOW,
             deadlines.RED: Notification.Kind.LOAN_APPROVAL_RED}
    sent = 0
    for loan in due:
        light = loan.light
        with transaction.atomic():
            if not Loan.objects.filter(pk=loan.pk, status=Loan.Status.REQUESTED).exclude(
                    last_approval_light__in=[light, deadlines.RED]).update(last_approval_light=light):
                continue
            notify(_pending_deciders(loan), kinds[light], key=f"loan:{loan.pk}:approval:{light}",
                   url=reverse("lifecycle:loans"), params=_approval_params(loan))
            audit.record(None, "loan.approval_light", loan, after={"light": light}, region=loan.region,
                         role="system")
        sent += 1
    return sent


def on_loan_returned(event):
    loan = Loan.objects.select_related("offer__asset").get(pk=event.object_id)
    notify(_staff(loan.borrower_id) + [loan.created_by_id], Notification.Kind.LOAN_RETURNED,
           key=f"loan:{loan.pk}:returned", url=reverse("lifecycle:loans"),
           params={"loan": loan.pk, "title": loan.offer.asset.description, "fee": str(loan.fee)})

