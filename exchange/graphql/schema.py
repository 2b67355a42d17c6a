"""The project's GraphQL schema: the union of each app's Query and Mutation classes."""
import graphene

from exchange.graphql import scalars  # noqa: F401  (registers the geometry converter)
from regions.graphql.schema import Mutation as RegionsMutation
from regions.graphql.schema import Query as RegionsQuery


class Query(RegionsQuery, graphene.ObjectType):
    node = graphene.relay.Node.Field()


class Mutation(RegionsMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
