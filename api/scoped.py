"""Base object type whose `node(id:)` lookups honour the permission layer.

graphene-django resolves `node(id: "…")` with `DjangoObjectType.get_node`, which reads the model's default
manager: without this base, anyone who can guess an ID reads any row. `ScopedObjectType.get_node` reads
through `node_queryset(info)` instead — by default `restrict(Model.objects.all(), user, "view")`; override
it to call the model's selector (which restricts and adds select_related).

It deliberately does NOT override `get_queryset`: graphene-django then resolves every foreign key pointing at
the type with one extra query per row (an N+1). Lists are restricted by their selectors; foreign keys
follow objects the caller may already see.
"""
from django.core.exceptions import ValidationError
from graphene_django import DjangoObjectType

from regions.permissions import restrict


class ScopedObjectType(DjangoObjectType):
    class Meta:
        abstract = True

    @classmethod
    def node_queryset(cls, info):
        """What `node(id:)` may return for this caller; override to use the model's selector."""
        return restrict(cls._meta.model._default_manager.all(), info.context.user, "view")

    @classmethod
    def get_node(cls, info, id):  # noqa: A002 - graphene's signature
        try:
            return cls.node_queryset(info).filter(pk=id).first()
        except (ValueError, TypeError, ValidationError):  # a global ID whose pk is not a valid key
            return None
