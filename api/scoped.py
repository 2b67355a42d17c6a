"""The base object types: every GraphQL type backed by a model derives from one of them (a test walks the
schema and fails on any other), so no door reads a row the permission layer would refuse.

- `ScopedObjectType`: `get_queryset` goes through `scope(queryset, user)` — by default
  `restrict(queryset, user, "view")`, the one permission layer. graphene-django calls `get_queryset` for
  root lists and connections, nested connections and lists (reverse relations) and `node(id:)`
  (`get_node`), so each of them returns only what the caller may see. A queryset a selector already
  restricted for this caller is not filtered twice (`regions.permissions.is_restricted`).
- `PublicObjectType`: reference data every signed-in caller may read (geography, agencies, asset
  classes); nothing for an anonymous caller.

Foreign keys (and one-to-one relations) resolve to the related object the selector loaded with
select_related, not through `get_node` per row (graphene-django's default once `get_queryset` is
overridden: one query per row, an N+1). That is safe because visibility is closed under the schema's
edges: whatever a visible object links to is itself visible to that caller (the models' rules include
what is reachable, e.g. `Asset.extra_visibility`); `tests/test_reads_matrix.py` checks every edge of the
schema against the rules. For the same reason a nested list a selector prefetched is used as prefetched
(filtering it again would query once per parent).
"""
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from graphene import Dynamic, Field
from graphene_django import DjangoObjectType
from graphene_django.converter import convert_django_field, get_django_field_description

from regions.permissions import restrict


def _signed_in(info):
    user = getattr(info.context, "user", None)
    return user is not None and user.is_authenticated


class ScopedObjectType(DjangoObjectType):
    class Meta:
        abstract = True

    @classmethod
    def scope(cls, queryset, user):
        """The rows of `queryset` the user may see; override to call the model's selector."""
        return restrict(queryset, user, "view")

    @classmethod
    def get_queryset(cls, queryset, info):
        if not _signed_in(info):
            return queryset.none()
        if getattr(queryset, "_result_cache", None) is not None:  # prefetched below a visible parent
            return queryset
        return cls.scope(queryset, info.context.user)

    @classmethod
    def node_queryset(cls, info):
        """What `node(id:)` may return for this caller; override to add the selector's select_related."""
        return cls.get_queryset(cls._meta.model._default_manager.all(), info)

    @classmethod
    def get_node(cls, info, id):  # noqa: A002 - graphene's signature
        if not _signed_in(info):  # null, like any id the caller may not see
            return None
        try:
            return cls.node_queryset(info).filter(pk=id).first()
        except (ValueError, TypeError, ValidationError):  # a global ID whose pk is not a valid key
            return None


class PublicObjectType(ScopedObjectType):
    class Meta:
        abstract = True

    @classmethod
    def scope(cls, queryset, user):
        return queryset


@convert_django_field.register(models.ForeignKey)
@convert_django_field.register(models.OneToOneField)
def convert_related_object(field, registry=None):
    """A foreign key resolves to the loaded related object (see the module docstring)."""
    def dynamic_type():
        _type = registry.get_type_for_model(field.related_model)
        if _type is None:
            return None
        return Field(_type, description=get_django_field_description(field), required=not field.null)

    return Dynamic(dynamic_type)


@convert_django_field.register(models.OneToOneRel)
def convert_reverse_one_to_one(field, registry=None):
    """The reverse side of a one-to-one relation: the related object, or null when there is none."""
    def resolve(root, info):
        try:
            return getattr(root, field.get_accessor_name())
        except ObjectDoesNotExist:
            return None

    def dynamic_type():
        _type = registry.get_type_for_model(field.related_model)
        if _type is None:
            return None
        return Field(_type, resolver=resolve)

    return Dynamic(dynamic_type)
