import graphene
from graphene_django import DjangoObjectType

from exchange.graphql.connection import CountableConnection
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
    boundary = graphene.Field("exchange.graphql.scalars.Geometry",
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
