"""Exchange queries and mutations (merged into the project schema by config/schema.py)."""
import graphene

from api.connection import PagedConnectionField
from api.errors import decode_id
from api.scalars import Geometry, enum_value
from exchange import selectors
from exchange.graphql import enums
from exchange.graphql import mutations as m
from exchange.graphql.filters import (
    ApprovalStepFilter,
    AssetClassFilter,
    AssetFilter,
    AuditEventFilter,
    ListingFilter,
    OccupancyFilter,
    OfficeSpaceFilter,
    TransferFilter,
)
from exchange.graphql.types import (
    ApprovalStepType,
    AssetClassType,
    AssetType,
    AuditEventType,
    ListingType,
    OccupancyType,
    OfficeSpaceType,
    TransferType,
)
from kernel.errors import NotFound


class Query(graphene.ObjectType):
    asset_classes = PagedConnectionField(AssetClassType, filterset_class=AssetClassFilter)
    assets = PagedConnectionField(AssetType, filterset_class=AssetFilter)
    office_spaces = PagedConnectionField(OfficeSpaceType, filterset_class=OfficeSpaceFilter)
    occupancies = PagedConnectionField(OccupancyType, filterset_class=OccupancyFilter)
    listings = PagedConnectionField(
        ListingType, filterset_class=ListingFilter,
        near=Geometry(description="GeoJSON Point: order nearest first and give distanceKm."),
        from_agency_id=graphene.ID(description="Measure distance from this agency's address point."),
        from_my_agency=graphene.Boolean(description="Measure distance from the caller's own agency."),
        within_km=graphene.Float(description="Only listings within this many km of the point."),
        ordering=graphene.Argument(enums.ListingOrder, name="orderBy"))
    listing = graphene.Field(ListingType, id=graphene.ID(required=True))
    transfers = PagedConnectionField(TransferType, filterset_class=TransferFilter)
    transfer = graphene.Field(TransferType, id=graphene.ID(required=True))
    approval_steps = PagedConnectionField(ApprovalStepType, filterset_class=ApprovalStepFilter,
                                          ordering=graphene.Argument(enums.ApprovalStepOrder, name="orderBy",
                                                                     default_value="light"))
    my_overdue_steps = PagedConnectionField(ApprovalStepType, filterset_class=ApprovalStepFilter,
                                            ordering=graphene.Argument(enums.ApprovalStepOrder, name="orderBy",
                                                                       default_value="due_at"),
                                            description="Red steps the caller is the authority for.")
    transfer_trail = PagedConnectionField(AuditEventType, filterset_class=AuditEventFilter,
                                          transfer_id=graphene.ID(required=True),
                                          description="Audit events of one transfer, oldest first.")

    def resolve_asset_classes(root, info, **kwargs):
        return selectors.asset_classes(info.context.user)

    def resolve_assets(root, info, **kwargs):
        return selectors.assets_for(info.context.user)

    def resolve_office_spaces(root, info, **kwargs):
        return selectors.office_spaces_for(info.context.user)

    def resolve_occupancies(root, info, **kwargs):
        return selectors.occupancies_for(info.context.user)

    def resolve_listings(root, info, near=None, from_agency_id=None, from_my_agency=False, within_km=None,
                         ordering=None, **kwargs):
        agency_pk = decode_id(from_agency_id, "Agency", "fromAgencyId") if from_agency_id else None
        return selectors.listings_for(info.context.user, near=near, from_agency_id=agency_pk,
                                      from_my_agency=from_my_agency, within_km=within_km,
                                      order=enum_value(ordering), card=near is not None)

    def resolve_listing(root, info, id):
        return _by_id(selectors.listing, info, id, "Listing")

    def resolve_transfers(root, info, **kwargs):
        return selectors.transfers_for(info.context.user)

    def resolve_transfer(root, info, id):
        return _by_id(selectors.transfer, info, id, "Transfer")

    def resolve_approval_steps(root, info, ordering, **kwargs):
        return selectors.order_steps(selectors.approval_steps_for(info.context.user), enum_value(ordering))

    def resolve_my_overdue_steps(root, info, ordering, **kwargs):
        return selectors.order_steps(selectors.my_overdue_steps(info.context.user), enum_value(ordering))

    def resolve_transfer_trail(root, info, transfer_id, **kwargs):
        return selectors.transfer_trail(info.context.user, decode_id(transfer_id, "Transfer", "transferId"))


def _by_id(fetch, info, global_id, type_name):
    """`fetch(user, pk)` for an `id` argument; a miss is `not_found` on `id`."""
    try:
        return fetch(info.context.user, decode_id(global_id, type_name, "id"))
    except NotFound as exc:
        raise NotFound(exc.message, field="id") from exc


class Mutation(graphene.ObjectType):
    register_asset = m.RegisterAsset.Field()
    add_asset_photo = m.AddAssetPhoto.Field()
    register_office_space = m.RegisterOfficeSpace.Field()
    mark_idle = m.MarkIdle.Field()
    withdraw_listing = m.WithdrawListing.Field()
    edit_listing = m.EditListing.Field()
    request_listing = m.RequestListing.Field()
    withdraw_request = m.WithdrawRequest.Field()
    allocate_listing = m.AllocateListing.Field()
    decide_approval = m.DecideApproval.Field()
    cancel_transfer = m.CancelTransfer.Field()
    confirm_handover = m.ConfirmHandover.Field()
    end_occupancy = m.EndOccupancy.Field()
