"""GraphQL object types of the exchange. Related objects are loaded by the selectors
(select_related/prefetch_related), so resolvers here never query per row."""
import functools

import graphene
from django.apps import apps
from django.urls import reverse
from graphene.utils.str_converters import to_camel_case
from graphene_django.registry import get_global_registry

from api.connection import CountableConnection
from api.enums import Light
from api.errors import global_id
from api.scalars import Money, km
from api.scoped import PublicObjectType, ScopedObjectType
from exchange import models
from exchange.graphql import enums
from kernel.models import AuditEvent
from regions.graphql.duties import duty_field
from regions.graphql.enums import Role as RoleEnum


def _node_meta(model, name, fields):
    return type("Meta", (), {"model": model, "name": name, "interfaces": (graphene.relay.Node,),
                             "connection_class": CountableConnection, "fields": fields})


class AssetClassType(PublicObjectType):
    Meta = _node_meta(models.AssetClass, "AssetClass", ("id", "code", "name_zh", "name_en", "kind"))

    kind = graphene.Field(enums.AssetKind, required=True)


class AssetPhotoType(ScopedObjectType):
    class Meta:
        model = models.AssetPhoto
        name = "AssetPhoto"
        fields = ("content_type", "size", "uploaded_at")

    url = graphene.String(required=True, description="Path of the photo (served only to those who may see it).")

    def resolve_url(root, info):
        return reverse("web:photo", args=[root.pk])


class AssetType(ScopedObjectType):
    Meta = _node_meta(models.Asset, "Asset", (
        "id", "agency", "asset_class", "description", "quantity", "unit", "original_value", "acquired_on",
        "condition", "location", "status", "created_at", "photos", "asset_number"))

    pk = graphene.Int(required=True)
    original_value = Money(required=True, description="原值（每单位）Original value per unit, CNY.")
    origin_transfer_id = graphene.ID(description="来源调拨 Global ID of the transfer this record came from, if any.")

    def resolve_origin_transfer_id(root, info):
        return global_id("Transfer", root.origin_transfer_id) if root.origin_transfer_id else None
    condition = graphene.Field(enums.Condition, required=True)
    status = graphene.Field(enums.AssetStatus, required=True)


class OfficeSpaceType(ScopedObjectType):
    Meta = _node_meta(models.OfficeSpace, "OfficeSpace", (
        "id", "agency", "building", "floor", "rooms", "area_m2", "location", "available_from", "available_to",
        "status", "created_at"))

    pk = graphene.Int(required=True)
    status = graphene.Field(enums.OfficeSpaceStatus, required=True)


class OccupancyType(ScopedObjectType):
    """办公用房调剂使用 Office space used by another agency after a transfer; the owner keeps the space."""

    Meta = _node_meta(models.Occupancy, "Occupancy", (
        "id", "office_space", "occupant", "area_m2", "starts_on", "ends_on", "ended_on"))

    transfer_id = graphene.ID(required=True, description="Global ID of the transfer that started it.")
    last_day = graphene.Date(description="Last day of use so far decided (ended, or availableTo), inclusive.")

    def resolve_transfer_id(root, info):
        return global_id("Transfer", root.transfer_id)

    def resolve_last_day(root, info):
        return root.last_day


class ListingType(ScopedObjectType):
    Meta = _node_meta(models.Listing, "Listing", (
        "id", "region", "agency", "jurisdiction", "asset", "office_space", "title", "location", "quantity",
        "quantity_available", "opened_at", "own_window_ends_at", "region_window_ends_at", "status"))

    pk = graphene.Int(required=True)
    status = graphene.Field(enums.ListingStatus, required=True)
    window = graphene.Field(enums.ScreeningWindow, required=True, description="The screening window open now.")
    window_ends_at = graphene.DateTime(description="When the open window ends (null in disposal).")
    distance_km = graphene.Float(description="Distance from the search point, km (only with a point).")

    def resolve_window(root, info):
        return str(root.window_at())

    def resolve_window_ends_at(root, info):
        return root.window_ends_at()

    def resolve_distance_km(root, info):
        found = root.search_km
        return None if found is None else km(found)


class StandardsBreach(graphene.ObjectType):
    """标准超限 A breach of the standards in force, accepted under an exception."""

    field = graphene.String()
    kind = graphene.Field(enums.BreachKind, required=True)
    message = graphene.String(required=True)


class TransferRequestType(ScopedObjectType):
    Meta = _node_meta(models.TransferRequest, "TransferRequest", (
        "id", "listing", "agency", "quantity", "justification", "needed_by", "exception_requested",
        "exception_justification", "status", "created_at"))

    pk = graphene.Int(required=True)
    status = graphene.Field(enums.TransferRequestStatus, required=True)
    breaches = graphene.List(graphene.NonNull(StandardsBreach), required=True,
                             description="Standards breaches accepted under an exception.")
    allocation_duty = duty_field("The stage pending allocation: responsible person, deadline, light.")

    def resolve_breaches(root, info):
        return [StandardsBreach(field=to_camel_case(b["field"]) if b.get("field") else None, kind=b["code"],
                                message=b["message"]) for b in root.breaches]


class ApprovalStepType(ScopedObjectType):
    Meta = _node_meta(models.ApprovalStep, "ApprovalStep", (
        "id", "transfer", "kind", "region", "jurisdiction", "opened_at", "yellow_at", "due_at", "decision",
        "decided_at", "reason"))

    pk = graphene.Int(required=True)
    kind = graphene.Field(enums.ApprovalKind, required=True)
    decision = graphene.Field(enums.ApprovalDecision, required=True)
    light = graphene.Field(Light, description="Null once decided.")
    decided_by = graphene.String(description="Username of the decider.")
    duty = duty_field("The step's responsible person, deadline and light.")

    def resolve_light(root, info):
        light = root.light
        return None if light is None else str(light)

    def resolve_decided_by(root, info):
        return root.decided_by.username if root.decided_by_id else None


class TransferType(ScopedObjectType):
    Meta = _node_meta(models.Transfer, "Transfer", (
        "id", "request", "listing", "region", "giver", "receiver", "giver_jurisdiction", "receiver_jurisdiction",
        "quantity", "value", "distance_km", "allocation_reason", "status", "status_reason", "allocated_at",
        "approved_at", "completed_at", "received_quantity", "received_condition", "received_asset",
        "certificate_code"))

    pk = graphene.Int(required=True)
    status = graphene.Field(enums.TransferStatus, required=True)
    value = Money(required=True, description="调拨原值 Original value moved, CNY.")
    distance_km = graphene.Float(required=True, description="WGS84 geodesic km between giver and receiver "
                                                            "(0.01 km).")
    received_condition = graphene.Field(enums.Condition)
    steps = graphene.List(graphene.NonNull(ApprovalStepType), required=True)
    handover_duty = duty_field("The handover stage (once approved): responsible person, deadline, light.")
    co2_avoided_kg = graphene.Float(description="CO₂ avoided by the reuse, kg CO₂e: units received × the class's "
                                                "embodied-carbon factor in force at completion (null: no factor).")

    def resolve_co2_avoided_kg(root, info):
        return None if root.co2_avoided_kg is None else float(root.co2_avoided_kg)

    def resolve_distance_km(root, info):
        return km(root.distance_km)

    def resolve_steps(root, info):
        return root.steps.all()


class AuditEventType(ScopedObjectType):
    Meta = _node_meta(AuditEvent, "AuditEvent", (
        "id", "at", "action", "object_type", "object_id", "before", "after", "prev_hash", "hash", "chain"))

    chain = graphene.Int(description="The hash chain the event links into: its region's id, or null for the "
                                     "global chain. `prevHash` is the `hash` of the previous event of the same chain.")

    actor = graphene.String(description="Username of the actor (null for the system).")
    roles = graphene.List(graphene.NonNull(RoleEnum), required=True,
                          description="Roles the actor held when acting (empty for the system).")
    object_id = graphene.ID(required=True, description="Global ID of the object the event is about.")
    via_token_prefix = graphene.String(
        description="Prefix of the API token the actor acted through (the `xxxxxxxx` of `gwc_xxxxxxxx_…`, as "
                    "listed by `apiTokens`); null when the actor acted in person or for the system.")

    def resolve_actor(root, info):
        return root.actor.username if root.actor_id else None

    def resolve_via_token_prefix(root, info):
        return root.via_token.prefix if root.via_token_id else None

    def resolve_roles(root, info):
        return [role for role in root.role.split(",") if role]

    def resolve_object_id(root, info):
        return global_id(_type_name(root.object_type), root.object_id)


@functools.cache
def _type_name(label):
    """The GraphQL type name of a model label ("exchange.transfer" -> "Transfer")."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    found = get_global_registry().get_type_for_model(model)
    return found._meta.name if found is not None else model.__name__
