"""The project's GraphQL schema: the union of each app's Query and Mutation classes."""
import graphene

from api import scalars  # noqa: F401  (registers the geometry converter)
from evaluation.graphql import schema as evaluation_api
from exchange.graphql import api as exchange_api
from exchange.graphql import imports as imports_api
from ledger.graphql import schema as ledger_api
from lifecycle.graphql import schema as lifecycle_api
from notifications.graphql import schema as notifications_api
from regions.graphql import duties as duties_api
from regions.graphql import emergency as emergency_api
from regions.graphql import roles as roles_api
from regions.graphql import schema as regions_api
from reports.graphql import schema as reports_api

APPS = (regions_api, roles_api, emergency_api, duties_api, exchange_api, imports_api, ledger_api, reports_api,
        notifications_api, evaluation_api, lifecycle_api)


class Query(*(app.Query for app in APPS), graphene.ObjectType):
    node = graphene.relay.Node.Field()


class Mutation(*(app.Mutation for app in APPS), graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
