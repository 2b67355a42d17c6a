import graphene

from api.connection import PagedConnectionField
from api.errors import decode_id
from api.scalars import km as to_km
from kernel.errors import ValidationFailed
from regions import selectors
from regions.graphql import enums

from .filters import AgencyFilter, ApiTokenFilter, JurisdictionFilter, RegionFilter, StandardSetFilter
from .mutations import (
    ApiTokenType,
    CreateApiToken,
    CreateStandardVersion,
    EditFutureStandard,
    RevokeApiToken,
    SetSettlingLevel,
)
from .types import (
    AgencyType,
    JurisdictionDistanceType,
    JurisdictionType,
    MeType,
    RegionType,
    RoleGrantType,
    StandardSetType,
)


class Query(graphene.ObjectType):
    me = graphene.Field(MeType, required=True, description="The caller: roles with scopes, token scopes.")
    regions = PagedConnectionField(RegionType, filterset_class=RegionFilter)
    jurisdictions = PagedConnectionField(JurisdictionType, filterset_class=JurisdictionFilter)
    jurisdiction = graphene.Field(JurisdictionType, code=graphene.String(required=True))
    jurisdiction_at = graphene.Field(
        JurisdictionType, lon=graphene.Float(required=True), lat=graphene.Float(required=True),
        description="The most specific jurisdiction (county, city, province) containing the point, or null.")
    jurisdictions_within = graphene.List(
        graphene.NonNull(JurisdictionDistanceType), required=True, lon=graphene.Float(required=True),
        lat=graphene.Float(required=True), km=graphene.Float(required=True), level=enums.JurisdictionLevel(),
        description="Jurisdictions whose representative point is within `km` of the point, nearest first.")
    distance_km = graphene.Float(
        from_agency=graphene.ID(), to_agency=graphene.ID(), from_jurisdiction=graphene.String(),
        to_jurisdiction=graphene.String(),
        description="Ellipsoidal (WGS84) km between two agencies' address points or two jurisdictions' "
                    "representative points (codes).")
    agencies = PagedConnectionField(AgencyType, filterset_class=AgencyFilter)
    standards_in_force = graphene.Field(StandardSetType, region=graphene.String(required=True),
                                        on=graphene.Date(required=True),
                                        description="The region's standard set that applied on the date.")
    standard_sets = PagedConnectionField(StandardSetType, filterset_class=StandardSetFilter)
    api_tokens = PagedConnectionField(ApiTokenType, filterset_class=ApiTokenFilter)

    def resolve_me(root, info):
        data = selectors.me(info.context.user)
        return MeType(**{**data, "roles": [RoleGrantType(**r) for r in data["roles"]]})

    def resolve_regions(root, info, **kwargs):
        return selectors.regions_for(info.context.user)

    def resolve_jurisdictions(root, info, **kwargs):
        return selectors.jurisdictions_for(info.context.user)

    def resolve_jurisdiction(root, info, code):
        return selectors.jurisdiction_by_code(info.context.user, code)

    def resolve_jurisdiction_at(root, info, lon, lat):
        return selectors.jurisdiction_at(info.context.user, lon, lat)

    def resolve_jurisdictions_within(root, info, lon, lat, km, level=None):
        return [JurisdictionDistanceType(jurisdiction=j, km=to_km(d))
                for j, d in selectors.jurisdictions_within(info.context.user, lon, lat, km,
                                                           getattr(level, "value", level))]

    def resolve_distance_km(root, info, from_agency=None, to_agency=None, from_jurisdiction=None,
                            to_jurisdiction=None):
        user = info.context.user
        if from_agency and to_agency:
            return to_km(selectors.distance_between_agencies(
                user, decode_id(from_agency, "Agency", "fromAgency"), decode_id(to_agency, "Agency", "toAgency")))
        if from_jurisdiction and to_jurisdiction:
            return to_km(selectors.distance_between_jurisdictions(user, from_jurisdiction, to_jurisdiction))
        raise ValidationFailed("Give fromAgency and toAgency, or fromJurisdiction and toJurisdiction.")

    def resolve_agencies(root, info, **kwargs):
        return selectors.agencies_for(info.context.user)

    def resolve_standards_in_force(root, info, region, on):
        return selectors.standards_in_force(info.context.user, region, on)

    def resolve_standard_sets(root, info, **kwargs):
        return selectors.standard_sets_for(info.context.user).prefetch_related(
            "office_norms", "class_norms", "rent_norms__jurisdiction")

    def resolve_api_tokens(root, info, **kwargs):
        return selectors.api_tokens_for(info.context.user)


class Mutation(graphene.ObjectType):
    create_api_token = CreateApiToken.Field()
    revoke_api_token = RevokeApiToken.Field()
    create_standard_version = CreateStandardVersion.Field()
    edit_future_standard = EditFutureStandard.Field()
    set_settling_level = SetSettlingLevel.Field()
