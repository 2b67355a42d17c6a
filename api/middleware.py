"""Graphene middleware: domain errors raised while resolving queries become GraphQL errors with a
stable `extensions.code` (mutations return them in their `errors` field instead)."""
from graphql import GraphQLError
from kernel.errors import DomainError


class DomainErrorMiddleware:
    def resolve(self, next_, root, info, **args):
        try:
            return next_(root, info, **args)
        except DomainError as exc:
            raise GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field}) from exc
