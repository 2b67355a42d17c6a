"""Relay connections with `totalCount`, a default page size of 50 and a hard maximum of 200:
a larger `first`/`last` is a typed GraphQL error, never a silent cut."""
import graphene
from django.conf import settings
from graphene_django.filter import DjangoFilterConnectionField

from graphql import GraphQLError

DEFAULT_PAGE_SIZE = 50


def max_page_size():
    return settings.GRAPHENE.get("RELAY_CONNECTION_MAX_LIMIT", 200)


class CountableConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of items matching the filters.")

    def resolve_total_count(root, info):
        return root.length


class PagedConnectionField(DjangoFilterConnectionField):
    """DjangoFilterConnectionField with the project's page-size rules."""

    @classmethod
    def connection_resolver(cls, resolver, connection, default_manager, queryset_resolver, max_limit,
                            enforce_first_or_last, root, info, **args):
        limit = max_page_size()
        for name in ("first", "last"):
            value = args.get(name)
            if value is not None and (value < 0 or value > limit):
                raise GraphQLError(
                    f"`{name}` must be between 0 and {limit} on `{info.field_name}` (got {value}).",
                    extensions={"code": "limit_exceeded", "field": name},
                )
        if args.get("first") is None and args.get("last") is None:
            args["first"] = DEFAULT_PAGE_SIZE
        return super().connection_resolver(resolver, connection, default_manager, queryset_resolver, max_limit,
                                           enforce_first_or_last, root, info, **args)
