import math

import graphene

from api.connection import CountableConnection
from api.scalars import Money, km, shaped_geojson
from api.scoped import PublicObjectType, ScopedObjectType
from kernel.errors import ValidationFailed
from regions import models
from regions.graphql import enums
from regions.permissions import restrict


class RegionType(PublicObjectType):
    class Meta:
        model = models.Region
        name = "Region"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "name_zh", "name_en")

    pk = graphene.Int(required=True)


class JurisdictionType(PublicObjectType):
    class Meta:
        model = models.Jurisdiction
        name = "Jurisdiction"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "level", "parent", "name_zh", "name_en", "boundary_simplified", "centroid")

    pk = graphene.Int(required=True)
    level = graphene.Field(enums.JurisdictionLevel, required=True)
    boundary = graphene.Field(
        "api.scalars.Geometry",
        simplify=graphene.Float(default_value=0.001, description="Tolerance in degrees (0.001 ≈ 100 m), 0–1; "
                                "0 is the full resolution, which costs 100 times more (graphql/README.md)."),
        precision=graphene.Int(default_value=5, description="Decimals of each coordinate, 0–8 (5 ≈ 1 m)."),
        description="The boundary, simplified by default; prefer boundarySimplified for maps.")

    def resolve_boundary(root, info, simplify, precision):
        if not math.isfinite(simplify) or not 0 <= simplify <= 1:
            raise ValidationFailed("simplify is a tolerance in degrees between 0 and 1.", field="simplify")
        if not 0 <= precision <= 8:
            raise ValidationFailed("precision is a number of decimals between 0 and 8.", field="precision")
        return shaped_geojson(root.boundary, simplify, precision)


class HeadcountType(PublicObjectType):
    class Meta:
        model = models.Headcount
        name = "Headcount"
        fields = ("rank", "count")

    rank = graphene.Field(enums.PostRank, required=True)


class AgencyType(PublicObjectType):
    class Meta:
        model = models.Agency
        name = "Agency"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "name_zh", "name_en", "jurisdiction", "is_affairs_bureau", "address", "location",
                  "headcounts")

    pk = graphene.Int(required=True)
    total_headcount = graphene.Int(required=True)


class StandardPartType(ScopedObjectType):
    """A row of a standard set (a norm): visible with its set."""

    class Meta:
        abstract = True

    @classmethod
    def scope(cls, queryset, user):
        return queryset.filter(standard_set__in=restrict(models.StandardSet.objects.all(), user))


class OfficeSpaceNormType(StandardPartType):
    class Meta:
        model = models.OfficeSpaceNorm
        name = "OfficeSpaceNorm"
        fields = ("level", "rank", "area_m2")

    level = graphene.Field(enums.OfficeNormLevel, required=True)
    rank = graphene.Field(enums.PostRank, required=True)


class AssetClassNormType(StandardPartType):
    class Meta:
        model = models.AssetClassNorm
        name = "AssetClassNorm"
        fields = ("class_code", "min_service_years", "price_cap", "quantity_per_head", "compensation_rate",
                  "loan_fee_per_day")

    price_cap = Money(description="单价上限 Price cap per item, CNY.")
    loan_fee_per_day = Money(description="出借费 Loan fee per unit and day, CNY (null: free of charge).")


class RentNormType(StandardPartType):
    class Meta:
        model = models.RentNorm
        name = "RentNorm"
        fields = ("rent_per_m2_month",)

    rent_per_m2_month = Money(required=True, description="租金当量 Rent-equivalent, CNY per m² and month.")

    jurisdiction_code = graphene.String(required=True)

    def resolve_jurisdiction_code(root, info):
        return root.jurisdiction.code


class StandardSetType(ScopedObjectType):
    """One effective-dated version of a region's standards (data, never code)."""

    class Meta:
        model = models.StandardSet
        name = "StandardSet"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "region", "effective_from", "title", "source", "own_window_days", "region_window_days",
                  "approval_working_days", "allocation_working_days", "handover_working_days",
                  "payment_working_days", "access_request_working_days", "coordinator_threshold", "allocation_mode",
                  "handling_fee", "transport_rate_per_km", "salvage_floor", "purchase_search_radius_km", "office_norms",
                  "class_norms", "rent_norms")

    pk = graphene.Int(required=True)
    allocation_mode = graphene.Field(enums.AllocationMode, required=True)
    purchase_search_radius_km = graphene.Float(
        required=True, description="购置审查公物仓搜索半径 Purchase check: warehouse search radius, km (先调剂后购置).")
    def resolve_purchase_search_radius_km(root, info):
        return km(root.purchase_search_radius_km)

    coordinator_threshold = Money(required=True, description="协调机构审批金额线 Coordinator approval above "
                                                             "this value, CNY.")
    handling_fee = Money(required=True, description="手续费 Handling fee per transfer, CNY.")
    transport_rate_per_km = Money(required=True, description="运输费率 Transport rate, CNY per km.")
    editable = graphene.Boolean(required=True, description="True while the set is not yet in force.")

    def resolve_editable(root, info):
        return root.is_editable()


class JurisdictionDistanceType(graphene.ObjectType):
    class Meta:
        name = "JurisdictionDistance"

    jurisdiction = graphene.Field(JurisdictionType, required=True)
    km = graphene.Float(required=True, description="Ellipsoidal (WGS84) km to the representative point (0.01 km).")


class RoleGrantType(graphene.ObjectType):
    class Meta:
        name = "RoleGrant"

    role = graphene.Field(enums.Role, required=True)
    region_code = graphene.String()
    jurisdiction_code = graphene.String()
    agency_code = graphene.String()
    agency_name = graphene.String()


class MeType(graphene.ObjectType):
    """The caller: a signed-in person, or a member city's system acting through an API token."""

    class Meta:
        name = "Me"

    username = graphene.String(required=True)
    roles = graphene.List(graphene.NonNull(RoleGrantType), required=True)
    via_token = graphene.Boolean(required=True)
    token_prefix = graphene.String()
    token_scopes = graphene.List(graphene.NonNull(enums.TokenScope),
                                 description="The token's scopes; null for a session.")
