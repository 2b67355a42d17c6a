"""The end of a transfer: cancelled before handover (the quantity returns), or completed when the
receiving agency confirms what it received (ownership of an asset moves, office space is occupied, the
ledger posts the compensation)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Asset, Condition, Listing, Occupancy, OfficeSpace, Transfer, TransferRequest
from exchange.services import approvals, carbon, stock
from exchange.services.common import locked, require_text
from exchange.signals import transfer_completed
from kernel import audit
from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from regions.permissions import require
from regions.scope import Scope
from regions.services import duties


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
        raise InvalidState(_("Only a transfer before handover can be cancelled."), field="transfer_id")
    before = transfer.status
    transfer.status, transfer.status_reason = Transfer.Status.CANCELLED, reason
    transfer.save(update_fields=["status", "status_reason"])
    approvals.close_pending(transfer)
    stock.give_back(transfer)
    transfer.request.status = TransferRequest.Status.WITHDRAWN
    transfer.request.save(update_fields=["status"])
    audit.record(user, "transfer.cancelled", transfer, before={"status": before},
                 after={"status": transfer.status, "reason": reason, "side": side}, transfer=transfer,
                 region=transfer.region)
    return transfer


@transaction.atomic
def confirm_handover(user, transfer, *, received_quantity, received_condition, note=""):
    """The receiving agency confirms what it received; ownership moves (office space: an occupancy starts,
    the owner stays), the transfer completes and the ledger posts the compensation, all in this transaction.
    Units confirmed short of those allocated stay with the giver and go back to the listing (audit event
    `transfer.shortfall_returned`): units never vanish. The receiver's record carries its origin transfer
    and an asset number GWC-<certificate code>."""
    require(user, "handover.confirm", Scope(jurisdiction_id=transfer.receiver_jurisdiction_id,
                                            agency_id=transfer.receiver_id))
    transfer = locked(Transfer.objects.select_related(
        "region", "giver", "receiver", "giver_jurisdiction", "receiver_jurisdiction", "listing__asset__asset_class",
        "listing__office_space")).get(pk=transfer.pk)
    if transfer.status != Transfer.Status.HANDOVER:
        raise InvalidState(_("The transfer is not awaiting handover."), field="transfer_id")
    if received_quantity is None or not 1 <= received_quantity <= transfer.quantity:
        raise ValidationFailed(_("The quantity received must be between 1 and the quantity allocated."),
                               field="received_quantity")
    if received_condition not in Condition.values:
        raise ValidationFailed(_("Unknown condition."), field="received_condition")
    listing, receiver, now = transfer.listing, transfer.receiver, timezone.now()
    transfer.certificate_code = Transfer.new_certificate_code()
    if listing.asset_id:
        given = locked(Asset.objects).get(pk=listing.asset_id)
        received = Asset.objects.create(
            agency=receiver, asset_class_id=given.asset_class_id, description=given.description,
            quantity=received_quantity, unit=given.unit, original_value=given.original_value,
            acquired_on=given.acquired_on, condition=received_condition, location=receiver.location,
            asset_number=f"GWC-{transfer.certificate_code}", origin_transfer=transfer)
        if given.quantity <= received_quantity:
            given.status = Asset.Status.TRANSFERRED
        else:
            given.quantity -= received_quantity
        given.save(update_fields=["status", "quantity"])
        transfer.received_asset = received
        moved = {"giver_asset": given.pk, "giver_status": given.status, "receiver_asset": received.pk,
                 "receiver_asset_number": received.asset_number}
    else:
        space = locked(OfficeSpace.objects).get(pk=listing.office_space_id)
        space.status = OfficeSpace.Status.OCCUPIED  # the owning agency keeps it: an occupancy, not a sale
        space.save(update_fields=["status"])
        occupancy = Occupancy.objects.create(
            office_space=space, transfer=transfer, occupant=receiver, area_m2=space.area_m2,
            starts_on=timezone.localdate(now), ends_on=space.available_to)
        moved = {"office_space": space.pk, "owner": space.agency_id, "occupancy": occupancy.pk,
                 "occupant": receiver.pk, "ends_on": space.available_to}
    transfer.status, transfer.completed_at = Transfer.Status.COMPLETED, now
    transfer.received_quantity, transfer.received_condition = received_quantity, received_condition
    transfer.status_reason = note or ""
    carbon.credit(transfer)
    transfer.save(update_fields=["status", "completed_at", "received_quantity", "received_condition",
                                 "received_asset", "status_reason", "certificate_code", "co2_avoided_kg",
                                 "carbon_factor"])
    duties.close_duty(transfer, duties.Stage.HANDOVER, now)
    shortfall = transfer.quantity - received_quantity
    if shortfall:
        before_available = Listing.objects.values_list("quantity_available", flat=True).get(pk=listing.pk)
        stock.give_back(transfer, shortfall)
        listing.refresh_from_db(fields=["quantity_available", "status"])
        audit.record(user, "transfer.shortfall_returned", transfer,
                     before={"quantity_available": before_available},
                     after={"shortfall": shortfall, "quantity_available": listing.quantity_available,
                            "listing_status": listing.status, "giver_asset": listing.asset_id},
                     transfer=transfer, region=transfer.region, jurisdiction=listing.jurisdiction)
    if listing.quantity_available == 0 and not listing.transfers.filter(
            status__in=[Transfer.Status.APPROVING, Transfer.Status.HANDOVER]).exists():
        Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.CLOSED)
    audit.record(user, "transfer.completed", transfer, before={"status": "handover"},
                 after={"status": transfer.status, "received_quantity": received_quantity,
                        "received_condition": received_condition, "note": note, **moved,
                        "certificate_code": transfer.certificate_code, "co2_avoided_kg": transfer.co2_avoided_kg,
                        "carbon_factor": transfer.carbon_factor_id},
                 transfer=transfer, region=transfer.region, jurisdiction=receiver.jurisdiction)
    transfer_completed.send(sender=Transfer, transfer=transfer, user=user)
    return transfer
