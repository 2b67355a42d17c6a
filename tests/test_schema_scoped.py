"""Every GraphQL type backed by a model derives from the scoped base types (api/scoped.py),
so its lists, nested connections and `node(id:)` go through the permission layer. Only the reference data
named in PUBLIC is readable by every signed-in caller."""
from graphene_django import DjangoObjectType

from api.scoped import PublicObjectType, ScopedObjectType
from config.schema import schema

# Geography, the agency directory (with headcounts, which the standards check uses) and the GB/T 14885
# asset classes: public reference data of the shared warehouse, shown to every signed-in caller.
PUBLIC = {"Region", "Jurisdiction", "Agency", "Headcount", "AssetClass"}


def model_types():
    return {name: t.graphene_type for name, t in schema.graphql_schema.type_map.items()
            if isinstance(getattr(t, "graphene_type", None), type) and issubclass(t.graphene_type, DjangoObjectType)}


def test_every_model_type_is_scoped():
    unscoped = sorted(name for name, cls in model_types().items() if not issubclass(cls, ScopedObjectType))
    assert not unscoped, (
        "GraphQL types not derived from ScopedObjectType (api/scoped.py); their lists and "
        f"node(id:) would bypass the permission layer: {', '.join(unscoped)}")


def test_only_reference_data_is_public():
    public = {name for name, cls in model_types().items() if issubclass(cls, PublicObjectType)}
    assert public == PUBLIC


def test_foreign_keys_do_not_query_per_row():
    """graphene-django resolves a foreign key through `get_node` (one query per row) once `get_queryset` is
    overridden; the base module's converter resolves it to the loaded object instead."""
    from exchange.graphql.types import TransferType

    field = TransferType._meta.fields["listing"].get_type()
    assert type(field).__name__ == "Field" and field.resolver is None
