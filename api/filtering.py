"""Filters whose GraphQL argument types are part of the contract: a domain enum, or a global ID of one type.

django-filter's ChoiceFilter and NumberFilter become `String` and `Decimal` arguments in graphene-django;
these give the argument its real type, so a wrong value is a validation error before anything runs."""
import graphene
from graphene_django.filter import TypedFilter

from api.errors import decode_id


class EnumFilter(TypedFilter):
    """Exact match (or `method=`) on the value of a domain enum."""

    def __init__(self, enum, **kwargs):
        super().__init__(input_type=enum, **kwargs)


class GlobalIdFilter(TypedFilter):
    """Exact match on a foreign key given as the global ID of `type_name` (another type is `not_found`)."""

    def __init__(self, type_name, argument, **kwargs):
        self.type_name, self.argument = type_name, argument
        super().__init__(input_type=graphene.ID, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{self.field_name: decode_id(value, self.type_name, self.argument)})
