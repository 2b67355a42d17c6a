import graphene

from api.connection import CountableConnection
from api.errors import DomainMutation, decode_id
from api.scalars import Money, enum_value
from api.scoped import ScopedObjectType
from kernel.errors import NotFound
from regions.models import ApiToken, Jurisdiction, Region, StandardSet
from regions.services import settling, standards, tokens

from . import enums
from .types import StandardSetType


class ApiTokenType(ScopedObjectType):
    class Meta:
        model = ApiToken
        name = "ApiToken"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "name", "prefix", "jurisdiction", "can_write", "created_at", "expires_at", "last_used_at",
                  "revoked_at")

    scopes = graphene.List(graphene.NonNull(enums.TokenScope), required=True)


class CreateApiToken(DomainMutation):
    """Create an API token for a member city's system. The key is returned once, here only: a retry with the
    same idempotencyKey replays the token but never the key, which is not stored."""

    idempotent = True
    idempotent_secret_fields = ("key",)

    class Input:
        jurisdiction_code = graphene.String(required=True)
        name = graphene.String(required=True)
        can_write = graphene.Boolean(default_value=False)
        days = graphene.Int(default_value=90)

    token = graphene.Field(ApiTokenType)
    key = graphene.String(description="The secret, shown once; send as `Authorization: Bearer <key>`.")

    @classmethod
    def perform(cls, info, jurisdiction_code, name, can_write, days):
        jurisdiction = Jurisdiction.objects.filter(code=jurisdiction_code).first()
        if jurisdiction is None:
            raise NotFound(field="jurisdictionCode")
        token, key = tokens.create_token(info.context.user, jurisdiction, name=name, can_write=can_write,
                                         days=days)
        return cls(token=token, key=key)


class RevokeApiToken(DomainMutation):
    class Input:
        token_id = graphene.ID(required=True)

    token = graphene.Field(ApiTokenType)

    @classmethod
    def perform(cls, info, token_id):
        token = ApiToken.objects.filter(pk=decode_id(token_id, "ApiToken", "tokenId")).first()
        if token is None:
            raise NotFound(field="tokenId")
        return cls(token=tokens.revoke_token(info.context.user, token))


class StandardFieldsInput(graphene.InputObjectType):
    title = graphene.String()
    source = graphene.String()
    own_window_days = graphene.Int()
    region_window_days = graphene.Int()
    approval_working_days = graphene.Int()
    allocation_working_days = graphene.Int()
    handover_working_days = graphene.Int()
    payment_working_days = graphene.Int()
    access_request_working_days = graphene.Int()
    coordinator_threshold = Money()
    allocation_mode = enums.AllocationMode()
    handling_fee = Money()
    transport_rate_per_km = Money()
    salvage_floor = graphene.Decimal()
    purchase_search_radius_km = graphene.Float(description="km")


class OfficeNormInput(graphene.InputObjectType):
    level = enums.OfficeNormLevel(required=True)
    rank = enums.PostRank(required=True)
    area_m2 = graphene.Decimal(required=True)


class ClassNormInput(graphene.InputObjectType):
    class_code = graphene.String(required=True)
    min_service_years = graphene.Decimal()
    price_cap = Money()
    quantity_per_head = graphene.Decimal()
    compensation_rate = graphene.Decimal()
    loan_fee_per_day = Money()


class RentNormInput(graphene.InputObjectType):
    jurisdiction_code = graphene.String(required=True)
    rent_per_m2_month = Money(required=True)


STANDARD_CHANGES = {
    "fields": graphene.Argument(StandardFieldsInput),
    "office_norms": graphene.List(graphene.NonNull(OfficeNormInput), description="Upsert by (level, rank)."),
    "class_norms": graphene.List(graphene.NonNull(ClassNormInput), description="Upsert by classCode."),
    "rent_norms": graphene.List(graphene.NonNull(RentNormInput), description="Upsert by jurisdictionCode."),
    "remove_class_codes": graphene.List(graphene.NonNull(graphene.String)),
}


def _changes(data):
    """GraphQL input objects to the plain dicts the service takes; omitted (or null) fields stay unchanged."""
    def plain(obj):
        return {k: getattr(v, "value", v) for k, v in dict(obj).items() if v is not None}

    return {"fields": plain(data["fields"]) if data.get("fields") else None,
            "office_norms": [plain(r) for r in data.get("office_norms") or []],
            "class_norms": [plain(r) for r in data.get("class_norms") or []],
            "rent_norms": [plain(r) for r in data.get("rent_norms") or []],
            "remove_class_codes": data.get("remove_class_codes") or []}


class CreateStandardVersion(DomainMutation):
    """A new version of the region's standards effective from a future date: a copy of the set that would
    be in force then, with the changes applied. Regional coordinator only; history is never rewritten."""

    class Input:
        region_code = graphene.String(required=True)
        effective_from = graphene.Date(required=True)
        locals().update(STANDARD_CHANGES)

    standard_set = graphene.Field(StandardSetType)

    @classmethod
    def perform(cls, info, region_code, effective_from, **data):
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise NotFound(field="regionCode")
        return cls(standard_set=standards.create_standard_version(info.context.user, region, effective_from,
                                                                  **_changes(data)))


class EditFutureStandard(DomainMutation):
    """Change a version that is not yet in force; a set in force is refused (`invalid_state`)."""

    class Input:
        standard_set_id = graphene.ID(required=True)
        locals().update(STANDARD_CHANGES)

    standard_set = graphene.Field(StandardSetType)

    @classmethod
    def perform(cls, info, standard_set_id, **data):
        found = StandardSet.objects.filter(pk=decode_id(standard_set_id, "StandardSet", "standardSetId")).first()
        if found is None:
            raise NotFound(field="standardSetId")
        return cls(standard_set=standards.edit_future_standard(info.context.user, found, **_changes(data)))


class SettlingLevelEntry(graphene.ObjectType):
    """结算层级 The level of jurisdiction that settles compensation in a region, from a date."""

    region_code = graphene.String(required=True)
    level = graphene.Field(enums.JurisdictionLevel, required=True)
    effective_from = graphene.Date(required=True)


class SetSettlingLevel(DomainMutation):
    """Set which level of jurisdiction (province, prefecture city, county) settles compensation in the region
    from a future date (区域利益补偿机制). Postings already made keep their accounts; a level not yet in force
    may be set again. Regional coordinator only."""

    class Input:
        region_code = graphene.String(required=True)
        level = enums.JurisdictionLevel(required=True)
        effective_from = graphene.Date(required=True)

    settling_level = graphene.Field(SettlingLevelEntry)

    @classmethod
    def perform(cls, info, region_code, level, effective_from):
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise NotFound(field="regionCode")
        row = settling.set_settling_level(info.context.user, region, level=enum_value(level),
                                          effective_from=effective_from)
        return cls(settling_level=SettlingLevelEntry(region_code=region.code, level=row.level,
                                                     effective_from=row.effective_from))
