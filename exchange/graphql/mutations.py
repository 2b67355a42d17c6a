"""Exchange mutations: thin doors, each calling one service function inside DomainMutation's transaction.

`idempotencyKey` on create-mutations is accepted and stored where the model has room for it
(TransferRequest); replay storage (regions.models.IdempotencyKey) is wired by the GraphQL-contract work."""
import base64
import binascii

import graphene
from django.utils.translation import gettext as _

from api.errors import DomainMutation, decode_id
from api.scalars import Geometry, Money, enum_value
from exchange import selectors
from exchange.graphql import enums
from exchange.graphql.types import (
    ApprovalStepType,
    AssetPhotoType,
    AssetType,
    ListingType,
    OccupancyType,
    OfficeSpaceType,
    TransferRequestType,
    TransferType,
)
from exchange.models import AssetClass, Listing, TransferRequest
from exchange.services import allocation, approvals, handover, items, occupancy, transfer_requests
from kernel.errors import NotFound, ValidationFailed
from regions.models import Agency, Region
from regions.permissions import get_principal, restrict


def _user(info):
    return info.context.user


def acting_agency(info, agency_id):
    """The agency named, or the caller's only agency when none is named."""
    user = _user(info)
    if agency_id:
        agency = Agency.objects.select_related("jurisdiction").filter(pk=decode_id(agency_id, "Agency",
                                                                                   "agencyId")).first()
        if agency is None:
            raise NotFound(field="agencyId")
        return agency
    staff = get_principal(user).staff_agencies
    if len(staff) != 1:
        raise ValidationFailed(_("Name the agency you act for."), field="agencyId", code="required")
    return Agency.objects.select_related("jurisdiction").get(pk=next(iter(staff)))


def _get(queryset, value, type_name, field):
    found = queryset.filter(pk=decode_id(value, type_name, field)).first()
    if found is None:
        raise NotFound(field=field)
    return found


class RegisterAsset(DomainMutation):
    """Register an asset record (资产卡片) of an agency; location defaults to the agency's address point."""

    idempotent = True  # idempotencyKey replay (api/idempotency.py)

    class Input:
        agency_id = graphene.ID(description="Defaults to the caller's agency (agency staff).")
        asset_class_code = graphene.String(required=True, description="GB/T 14885 code")
        description = graphene.String(required=True)
        quantity = graphene.Int(default_value=1)
        unit = graphene.String(default_value="台")
        original_value = Money(required=True, description="CNY per unit")
        acquired_on = graphene.Date(required=True)
        condition = enums.Condition(default_value=enums.Condition.GOOD.value)
        location = Geometry(description="A Point inside the region; defaults to the agency's address point.")
        location_override_reason = graphene.String(
            description="Why the location lies outside the agency's jurisdiction (kept in the audit trail).")
        asset_number = graphene.String(description="资产编号 The agency's own asset number (unique in the agency).")

    asset = graphene.Field(AssetType)

    @classmethod
    def perform(cls, info, asset_class_code, condition, agency_id=None, **data):
        data["condition"] = enum_value(condition)
        asset_class = AssetClass.objects.filter(code=asset_class_code).first()
        if asset_class is None:
            raise NotFound(f"Unknown asset class {asset_class_code}.", field="assetClassCode")
        agency = acting_agency(info, agency_id)
        return cls(asset=items.register_asset(_user(info), agency=agency, asset_class=asset_class, **data))


class AddAssetPhoto(DomainMutation):
    """Attach a photo (JPEG/PNG/WebP, at most 5 MB) sent as base64."""

    class Input:
        asset_id = graphene.ID(required=True)
        filename = graphene.String(required=True)
        content_base64 = graphene.String(required=True)

    photo = graphene.Field(AssetPhotoType)

    @classmethod
    def perform(cls, info, asset_id, filename, content_base64):
        asset = _get(selectors.assets_for(_user(info)), asset_id, "Asset", "assetId")
        try:
            content = base64.b64decode(content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(_("Not valid base64."), field="contentBase64") from exc
        return cls(photo=items.add_photo(_user(info), asset, filename=filename, content=content))


class RegisterOfficeSpace(DomainMutation):
    idempotent = True  # idempotencyKey replay (api/idempotency.py)

    class Input:
        agency_id = graphene.ID()
        building = graphene.String(required=True)
        floor = graphene.String(required=True)
        rooms = graphene.String(required=True)
        area_m2 = graphene.Decimal(required=True)
        available_from = graphene.Date(required=True)
        available_to = graphene.Date()
        location = Geometry(description="A Point inside the region; defaults to the agency's address point.")
        location_override_reason = graphene.String(
            description="Why the location lies outside the agency's jurisdiction (kept in the audit trail).")

    office_space = graphene.Field(OfficeSpaceType)

    @classmethod
    def perform(cls, info, agency_id=None, **data):
        agency = acting_agency(info, agency_id)
        return cls(office_space=items.register_office_space(_user(info), agency=agency, **data))


class MarkIdle(DomainMutation):
    """Mark an asset (or office space) idle: opens its listing with screening windows from the standards."""

    idempotent = True  # idempotencyKey replay (api/idempotency.py)

    class Input:
        asset_id = graphene.ID()
        office_space_id = graphene.ID()
        quantity = graphene.Int(description="Units offered (assets); defaults to all.")
        region_code = graphene.String(description="Only when the jurisdiction belongs to several regions.")

    listing = graphene.Field(ListingType)

    @classmethod
    def perform(cls, info, asset_id=None, office_space_id=None, quantity=None, region_code=None):
        user = _user(info)
        asset = _get(selectors.assets_for(user), asset_id, "Asset", "assetId") if asset_id else None
        space = (_get(selectors.office_spaces_for(user), office_space_id, "OfficeSpace", "officeSpaceId")
                 if office_space_id else None)
        region_id = None
        if region_code:
            region_id = Region.objects.filter(code=region_code).values_list("pk", flat=True).first()
            if region_id is None:
                raise NotFound(field="regionCode")
        listing = items.mark_idle(user, asset=asset, office_space=space, quantity=quantity, region_id=region_id)
        return cls(listing=selectors.listing(user, listing.pk))


class WithdrawListing(DomainMutation):
    class Input:
        listing_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    listing = graphene.Field(ListingType)

    @classmethod
    def perform(cls, info, listing_id, reason):
        listing = _get(selectors.listings_for(_user(info)), listing_id, "Listing", "listingId")
        return cls(listing=items.withdraw_listing(_user(info), listing, reason=reason))


class EditListing(DomainMutation):
    """Correct an open asset listing's description and condition while nobody has requested it (after a
    request: withdraw it and list it again)."""

    class Input:
        listing_id = graphene.ID(required=True)
        description = graphene.String(required=True)
        condition = enums.Condition(required=True)

    listing = graphene.Field(ListingType)

    @classmethod
    def perform(cls, info, listing_id, description, condition):
        listing = _get(selectors.listings_for(_user(info)), listing_id, "Listing", "listingId")
        edited = items.edit_listing(_user(info), listing, description=description, condition=enum_value(condition))
        return cls(listing=selectors.listing(_user(info), edited.pk))


class RequestListing(DomainMutation):
    """Request (申领) a quantity of a listing. Checked against the standards in force today: breaches come
    back as `standards_breach` errors, one per breach, unless `exceptionRequested` with a justification.
    Where the region allocates first come, the payload carries the transfer created."""

    idempotent = True  # idempotencyKey replay (api/idempotency.py)

    class Input:
        listing_id = graphene.ID(required=True)
        agency_id = graphene.ID(description="Defaults to the caller's agency (agency staff).")
        quantity = graphene.Int(default_value=1)
        justification = graphene.String(required=True)
        needed_by = graphene.Date()
        exception_requested = graphene.Boolean(default_value=False)
        exception_justification = graphene.String(default_value="")

    request = graphene.Field(TransferRequestType)
    transfer = graphene.Field(TransferType)

    @classmethod
    def perform(cls, info, listing_id, agency_id=None, **data):
        user = _user(info)
        # Not through listings_for: a listing allocated a moment ago is no longer visible, and the loser
        # must learn "already allocated"; the service checks region and window eligibility first.
        listing = _get(Listing.objects.all(), listing_id, "Listing", "listingId")
        request, transfer = transfer_requests.create_request(
            user, listing=listing, agency=acting_agency(info, agency_id), **data)
        return cls(request=request, transfer=transfer and selectors.transfer(user, transfer.pk))


class WithdrawRequest(DomainMutation):
    class Input:
        request_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    request = graphene.Field(TransferRequestType)

    @classmethod
    def perform(cls, info, request_id, reason):
        user = _user(info)
        request = _get(restrict(TransferRequest.objects.select_related("agency"), user), request_id,
                       "TransferRequest", "requestId")
        return cls(request=transfer_requests.withdraw_request(user, request, reason=reason))


class AllocateListing(DomainMutation):
    """Allocate a listing's pending requests once its window has closed (regions allocating at window
    close or optimized)."""

    idempotent = True  # creates transfers and notifies (mail): a retry must not

    class Input:
        listing_id = graphene.ID(required=True)

    transfers = graphene.List(graphene.NonNull(TransferType), description="Transfers created; null when refused.")

    @classmethod
    def perform(cls, info, listing_id):
        user = _user(info)
        listing = _get(selectors.listings_for(user), listing_id, "Listing", "listingId")
        created = allocation.allocate_at_window_close(listing, user)
        return cls(transfers=list(selectors.transfers_for(user).filter(pk__in=[t.pk for t in created])))


class DecideApproval(DomainMutation):
    """Approve or refuse one parallel approval step (a refusal needs a reason and ends the transfer)."""

    idempotent = True  # moves the transfer on and notifies: a retry returns the first result

    class Input:
        step_id = graphene.ID(required=True)
        approve = graphene.Boolean(required=True)
        reason = graphene.String(default_value="")

    step = graphene.Field(ApprovalStepType)
    transfer = graphene.Field(TransferType)

    @classmethod
    def perform(cls, info, step_id, approve, reason):
        user = _user(info)
        step = _get(selectors.approval_steps_for(user), step_id, "ApprovalStep", "stepId")
        step = approvals.decide_step(user, step, approve=approve, reason=reason)
        return cls(step=selectors.approval_steps_for(user).get(pk=step.pk),
                   transfer=selectors.transfer(user, step.transfer_id))


class CancelTransfer(DomainMutation):
    idempotent = True  # gives the quantity back and notifies

    class Input:
        transfer_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    transfer = graphene.Field(TransferType)

    @classmethod
    def perform(cls, info, transfer_id, reason):
        user = _user(info)
        transfer = _get(selectors.transfers_for(user), transfer_id, "Transfer", "transferId")
        handover.cancel_transfer(user, transfer, reason=reason)
        return cls(transfer=selectors.transfer(user, transfer.pk))


class ConfirmHandover(DomainMutation):
    """The receiving agency confirms the quantity and condition received; ownership moves and the
    transfer completes."""

    idempotent = True  # moves ownership and posts compensation

    class Input:
        transfer_id = graphene.ID(required=True)
        received_quantity = graphene.Int(required=True)
        received_condition = enums.Condition(required=True)
        note = graphene.String(default_value="")

    transfer = graphene.Field(TransferType)

    @classmethod
    def perform(cls, info, transfer_id, received_quantity, received_condition, note):
        user = _user(info)
        transfer = _get(selectors.transfers_for(user), transfer_id, "Transfer", "transferId")
        handover.confirm_handover(user, transfer, received_quantity=received_quantity,
                                  received_condition=enum_value(received_condition), note=note)
        return cls(transfer=selectors.transfer(user, transfer.pk))


class EndOccupancy(DomainMutation):
    """End an office-space occupancy on its last day of use; the ledger posts the rent-equivalent of every
    month not yet posted, the last one prorated to that day."""

    class Input:
        occupancy_id = graphene.ID(required=True)
        last_day = graphene.Date(required=True, description="Last day of use (inclusive), not in the future.")

    occupancy = graphene.Field(OccupancyType)

    @classmethod
    def perform(cls, info, occupancy_id, last_day):
        user = _user(info)
        found = _get(selectors.occupancies_for(user), occupancy_id, "Occupancy", "occupancyId")
        return cls(occupancy=occupancy.end_occupancy(user, found, last_day=last_day))
