"""Disposal (处置): nothing stays open forever. When a listing's regional window ends with units nobody
claimed, the units move to disposal; the owning agency proposes a method (auction, scrapping, donation),
refused before the class's minimum service life unless damaged beyond repair (财资〔2016〕27号); the
bureau of its jurisdiction approves; the agency records the outcome and proceeds and the units become
`disposed`. Proceeds are the jurisdiction's non-tax revenue, owed to its treasury: they are posted to the
ledger as cash received (debit) against the amount due to the treasury (credit), never into the
compensation accounts."""
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Asset, Listing, OfficeSpace, Transfer, TransferRequest
from exchange.services.common import locked, require_text
from exchange.services.service_life import NORM, minimum_life
from kernel import audit
from kernel.errors import InvalidState, StandardsBreach, ValidationFailed
from kernel.money import cny
from ledger.models import JournalTransaction
from ledger.services.posting import post, proceeds_accounts
from lifecycle.models import Disposal
from regions.permissions import require
from regions.services.standards import standard_in_force


def unclaimed_listings(now=None):
    """Open listings whose regional window has ended and that no pending request still waits on."""
    now = now or timezone.now()
    pending = TransferRequest.objects.filter(listing=OuterRef("pk"), status=TransferRequest.Status.PENDING)
    return (Listing.objects.filter(status=Listing.Status.OPEN, region_window_ends_at__lte=now)
            .exclude(Exists(pending)).select_related("asset", "office_space", "region", "jurisdiction"))


def open_disposals(now=None):
    """Move every unclaimed listing out of the warehouse: its unclaimed asset units into a disposal
    awaiting the agency's proposal; office space back to its agency as idle. Idempotent (a listing
    leaves `open` once, in a conditional UPDATE). Returns the number of listings moved."""
    moved = 0
    for listing in unclaimed_listings(now):
        with transaction.atomic():
            moved += _close_unclaimed(listing)
    return moved


def _close_unclaimed(listing):
    left = listing.quantity_available
    active = listing.transfers.filter(status__in=[Transfer.Status.APPROVING, Transfer.Status.HANDOVER]).exists()
    if not Listing.objects.filter(pk=listing.pk, status=Listing.Status.OPEN, quantity_available=left).update(
            status=Listing.Status.ALLOCATED if active else Listing.Status.CLOSED, quantity_available=0):
        return 0  # changed meanwhile (a request, an allocation or another run)
    if listing.office_space_id:
        OfficeSpace.objects.filter(pk=listing.office_space_id, status=OfficeSpace.Status.LISTED).update(
            status=OfficeSpace.Status.IDLE)
        audit.record(None, "listing.unclaimed", listing, after={"office_space": listing.office_space_id},
                     region=listing.region, jurisdiction=listing.jurisdiction, role="system")
        return 1
    if not active:
        Asset.objects.filter(pk=listing.asset_id, status=Asset.Status.LISTED).update(status=Asset.Status.IDLE)
    disposal = Disposal.objects.create(listing=listing, asset_id=listing.asset_id, region=listing.region,
                                       jurisdiction=listing.jurisdiction, agency_id=listing.agency_id, quantity=left)
    audit.record(None, "disposal.opened", disposal, after={"listing": listing.pk, "quantity": left},
                 region=listing.region, jurisdiction=listing.jurisdiction, role="system")
    return 1


def _locked(disposal):
    return locked(Disposal.objects.select_related("asset__asset_class", "region", "jurisdiction")).get(pk=disposal.pk)


@transaction.atomic
def propose(user, disposal, *, method, reason, damaged_beyond_repair=False, damage_note=""):
    """The owning agency proposes how to dispose of the units. Before the class's minimum service life
    this is refused unless the item is damaged beyond repair (with its assessment)."""
    require(user, "disposal.propose", disposal)
    disposal = _locked(disposal)
    if disposal.status != Disposal.Status.AWAITING_PROPOSAL:
        raise InvalidState(_("This disposal is not awaiting a proposal."), field="disposal_id")
    if method not in Disposal.Method.values:
        raise ValidationFailed(_("Choose auction, scrap or donation."), field="method")
    reason = require_text(reason, "reason", _("A disposal needs a reason."))
    if damaged_beyond_repair:
        damage_note = require_text(damage_note, "damage_note",
                                   _("Describe the damage that makes repair impossible."))
    today = timezone.localdate()
    asset = disposal.asset
    if asset.status == Asset.Status.LISTED and not disposal.listing.transfers.filter(
            status__in=[Transfer.Status.APPROVING, Transfer.Status.HANDOVER]).exists():
        raise InvalidState(_("The asset is listed again in the warehouse; withdraw that listing first."),
                           field="disposal_id")
    rule = minimum_life(standard_in_force(disposal.region, today), asset.asset_class.code, asset.acquired_on)
    if not rule.allows(today, damaged_beyond_repair=damaged_beyond_repair):
        raise StandardsBreach(
            _("Acquired %(acquired)s, the item reaches its minimum service life of %(years)s years only on "
              "%(reached)s (%(norm)s); before that it may be disposed of only when damaged beyond repair.")
            % {"norm": NORM, "acquired": f"{asset.acquired_on:%Y-%m-%d}", "years": rule.min_service_years,
               "reached": f"{rule.reached_on:%Y-%m-%d}"}, field="damaged_beyond_repair", code="standards_breach")
    disposal.status, disposal.method, disposal.reason = Disposal.Status.PROPOSED, method, reason
    disposal.damaged_beyond_repair, disposal.damage_note = bool(damaged_beyond_repair), damage_note or ""
    disposal.proposed_by, disposal.proposed_at = user, timezone.now()
    disposal.save(update_fields=["status", "method", "reason", "damaged_beyond_repair", "damage_note",
                                 "proposed_by", "proposed_at"])
    audit.record(user, "disposal.proposed", disposal, before={"status": "awaiting_proposal"},
                 after={"status": disposal.status, "method": method,
                        "damaged_beyond_repair": bool(damaged_beyond_repair),
                        "min_life_reached_on": rule.reached_on, "reason": reason},
                 region=disposal.region, jurisdiction=disposal.jurisdiction)
    return disposal


@transaction.atomic
def decide(user, disposal, *, approve, reason=""):
    """The bureau of the owning jurisdiction approves the proposal, or refuses it with a reason (the agency
    then proposes again)."""
    require(user, "disposal.decide", disposal)
    disposal = _locked(disposal)
    if disposal.status != Disposal.Status.PROPOSED:
        raise InvalidState(_("This disposal has no proposal to decide."), field="disposal_id")
    if not approve:
        reason = require_text(reason, "reason", _("A refusal needs a reason."))
    disposal.status = Disposal.Status.APPROVED if approve else Disposal.Status.AWAITING_PROPOSAL
    disposal.decided_by, disposal.decided_at, disposal.decision_reason = user, timezone.now(), reason or ""
    disposal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit.record(user, "disposal.approved" if approve else "disposal.refused", disposal,
                 before={"status": "proposed"}, after={"status": disposal.status, "reason": reason or ""},
                 region=disposal.region, jurisdiction=disposal.jurisdiction)
    return disposal


def _money(value, field):
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise ValidationFailed(_("Enter an amount of 0 or more (CNY)."), field=field)
    return cny(amount)


@transaction.atomic
def complete(user, disposal, *, proceeds, note=""):
    """Record the outcome of an approved disposal: the proceeds (0 for scrapping or a donation) and a note.
    The units leave the agency's holdings as a `disposed` asset record (all of the record when every unit
    goes); units never vanish."""
    require(user, "disposal.complete", disposal)
    disposal = _locked(disposal)
    if disposal.status != Disposal.Status.APPROVED:
        raise InvalidState(_("Only an approved disposal can be completed."), field="disposal_id")
    proceeds = _money(proceeds, "proceeds")
    asset = locked(Asset.objects).get(pk=disposal.asset_id)
    if asset.quantity <= disposal.quantity:
        asset.status = Asset.Status.DISPOSED
        asset.save(update_fields=["status"])
        disposed = asset
    else:
        asset.quantity -= disposal.quantity
        asset.save(update_fields=["quantity"])
        disposed = Asset.objects.create(
            agency_id=asset.agency_id, asset_class_id=asset.asset_class_id, description=asset.description,
            quantity=disposal.quantity, unit=asset.unit, original_value=asset.original_value,
            acquired_on=asset.acquired_on, condition=asset.condition, location=asset.location,
            status=Asset.Status.DISPOSED)
    disposal.status, disposal.proceeds, disposal.outcome_note = Disposal.Status.DISPOSED, proceeds, note or ""
    disposal.disposed_at, disposal.disposed_asset, disposal.asset = timezone.now(), disposed, asset
    disposal.save(update_fields=["status", "proceeds", "outcome_note", "disposed_at", "disposed_asset"])
    audit.record(user, "disposal.completed", disposal, before={"status": "approved"},
                 after={"status": disposal.status, "proceeds": proceeds, "method": disposal.method,
                        "asset": asset.pk, "disposed_asset": disposed.pk, "quantity": disposal.quantity},
                 region=disposal.region, jurisdiction=disposal.jurisdiction)
    _post_proceeds(user, disposal)
    return disposal


def _post_proceeds(user, disposal):
    """Post the proceeds (none for nothing received): 借 处置收款 贷 应缴财政款 of the owning jurisdiction."""
    if not disposal.proceeds:
        return None
    region, jurisdiction = disposal.region, disposal.jurisdiction
    received, due = proceeds_accounts(region, jurisdiction)
    txn, created = post(region, on=timezone.localdate(disposal.disposed_at), kind=JournalTransaction.Kind.DISPOSAL,
                        key=f"disposal:{disposal.pk}:proceeds",
                        description=f"处置收入 disposal proceeds #{disposal.pk} ({disposal.method}): "
                                    f"{disposal.quantity} × {disposal.asset.description}",
                        legs=[(received, "debit", disposal.proceeds), (due, "credit", disposal.proceeds)])
    if created:
        audit.record(user, "ledger.disposal_proceeds_posted", txn,
                     after={"disposal": disposal.pk, "amount": disposal.proceeds},
                     region=region, jurisdiction=jurisdiction)
    return txn
