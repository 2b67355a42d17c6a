import graphene

from exchange.graphql.connection import PagedConnectionField
from regions import selectors

from .filters import AgencyFilter, JurisdictionFilter, RegionFilter
from .mutations import CreateApiToken, RevokeApiToken
from .types import AgencyType, JurisdictionType, RegionType


class Query(graphene.ObjectType):
    regions = PagedConnectionField(RegionType, filterset_class=RegionFilter)
    jurisdictions = PagedConnectionField(JurisdictionType, filterset_class=JurisdictionFilter)
    jurisdiction = graphene.Field(JurisdictionType, code=graphene.String(required=True))
    agencies = PagedConnectionField(AgencyType, filterset_class=AgencyFilter)

    def resolve_regions(root, info, **kwargs):
        return selectors.regions_for(info.context.user)

    def resolve_jurisdictions(root, info, **kwargs):
        return selectors.jurisdictions_for(info.context.user)

    def resolve_jurisdiction(root, info, code):
        return selectors.jurisdiction_by_code(info.context.user, code)

    def resolve_agencies(root, info, **kwargs):
        return selectors.agencies_for(info.context.user)


class Mutation(graphene.ObjectType):
    create_api_token = CreateApiToken.Field()
    revoke_api_token = RevokeApiToken.Field()
