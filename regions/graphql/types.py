import graphene
from graphene_django import DjangoObjectType

from api.connection import CountableConnection
from regions import models


class RegionType(DjangoObjectType):
    class Meta:
        model = models.Region
        name = "Region"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "name_zh", "name_en")

    pk = graphene.Int(required=True)


class JurisdictionType(DjangoObjectType):
    class Meta:
        model = models.Jurisdiction
        name = "Jurisdiction"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "level", "parent", "name_zh", "name_en", "boundary_simplified", "centroid")

    pk = graphene.Int(required=True)
    boundary = graphene.Field("api.scalars.Geometry",
                              description="Full-resolution boundary (large; prefer boundarySimplified).")

    def resolve_boundary(root, info):
        return root.boundary


class HeadcountType(DjangoObjectType):
    class Meta:
        model = models.Headcount
        name = "Headcount"
        fields = ("rank", "count")


class AgencyType(DjangoObjectType):
    class Meta:
        model = models.Agency
        name = "Agency"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "name_zh", "name_en", "jurisdiction", "is_affairs_bureau", "address", "location",
                  "headcounts")

    pk = graphene.Int(required=True)
    total_headcount = graphene.Int(required=True)


class OfficeSpaceNormType(DjangoObjectType):
    class Meta:
        model = models.OfficeSpaceNorm
        name = "OfficeSpaceNorm"
        fields = ("level", "rank", "area_m2")


class AssetClassNormType(DjangoObjectType):
    class Meta:
        model = models.AssetClassNorm
        name = "AssetClassNorm"
        fields = ("class_code", "min_service_years", "price_cap", "quantity_per_head", "compensation_rate")


class RentNormType(DjangoObjectType):
    class Meta:
        model = models.RentNorm
        name = "RentNorm"
        fields = ("rent_per_m2_month",)

    jurisdiction_code = graphene.String(required=True)

    def resolve_jurisdiction_code(root, info):
        return root.jurisdiction.code


class StandardSetType(DjangoObjectType):
    """One effective-dated version of a region's standards (data, never code)."""

    class Meta:
        model = models.StandardSet
        name = "StandardSet"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "region", "effective_from", "title", "source", "own_window_days", "region_window_days",
                  "approval_working_days", "coordinator_threshold", "allocation_mode", "handling_fee",
                  "transport_rate_per_km", "salvage_floor", "office_norms", "class_norms", "rent_norms")

    pk = graphene.Int(required=True)
    editable = graphene.Boolean(required=True, description="True while the set is not yet in force.")

    def resolve_editable(root, info):
        from django.utils import timezone

        return root.effective_from > timezone.localdate()


class JurisdictionDistanceType(graphene.ObjectType):
    class Meta:
        name = "JurisdictionDistance"

    jurisdiction = graphene.Field(JurisdictionType, required=True)
    km = graphene.Float(required=True, description="Ellipsoidal (WGS84) km to the representative point.")


class RoleGrantType(graphene.ObjectType):
    class Meta:
        name = "RoleGrant"

    role = graphene.String(required=True)
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
    token_scopes = graphene.List(graphene.NonNull(graphene.String),
                                 description="The token's scopes (read, write); null for a session.")
