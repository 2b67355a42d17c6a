"""The reads matrix (tests/reads_matrix_cases.py): every Node type's object is seen through `node(id:)` by
exactly the principals of its row, and never appears in any root field's answer (lists, connections,
nested paths) for anyone else. Also: every edge of the schema (a type's field that is a model relation)
leads only to objects the permission layer shows the same caller, which is what lets foreign keys resolve
without a query per row (api/scoped.py)."""
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from api.scoped import PublicObjectType
from config.schema import schema
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, Undefined
from kernel.errors import DomainError
from regions.services import tokens
from tests.reads_matrix_cases import PRINCIPALS, ROOT_ARGS, ROOT_VARIANTS, ROWS, build, gid
from tests.test_schema_scoped import model_types

DEPTH = 3


def node_type_names():
    node = schema.graphql_schema.get_type("Node")
    return sorted(name for name, t in schema.graphql_schema.type_map.items()
                  if isinstance(t, GraphQLObjectType) and node in t.interfaces)


def test_every_node_type_has_a_row():
    missing = [name for name in node_type_names() if name not in ROWS]
    assert not missing, ("Node types without a row in tests/reads_matrix_cases.py ROWS (add the object of "
                         f"jurisdiction A and who may see it): {', '.join(missing)}")
    assert not set(ROWS) - set(node_type_names()), "stale rows"


@pytest.fixture
def matrix(region_world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = build(region_world)
    users = dict(world["users"], anonymous=AnonymousUser())
    for name, key in world["keys"].items():
        users[name] = tokens.authenticate(key)
    world["principals"] = users
    return world


def execute(world, who, query, variables=None):
    request = RequestFactory().post("/graphql/")
    request.user = world["principals"][who]
    result = schema.execute(query, variable_values=variables, context_value=request)
    return result.data, result.errors


def _unwrap(t):
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t


def _required_args(field):
    return [name for name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined]


def selection(t, depth):
    """Every Node's `id` reachable from type `t` through fields without required arguments."""
    parts = ["id"] if "id" in t.fields else ["__typename"]
    if depth == 0:
        return " ".join(parts)
    for name, field in t.fields.items():
        inner = _unwrap(field.type)
        if not isinstance(inner, GraphQLObjectType) or _required_args(field):
            continue
        if name.startswith("__"):
            continue
        wrapper = inner.name.endswith(("Connection", "Edge")) or inner.name == "PageInfo"
        parts.append(f"{name} {{ {selection(inner, depth if wrapper else depth - 1)} }}")
    return " ".join(parts)


def root_queries(world):
    """(field name, query, variables) for every root query field that returns objects."""
    queries = []
    for name, field in schema.graphql_schema.query_type.fields.items():
        if not isinstance(_unwrap(field.type), GraphQLObjectType):
            continue
        required = _required_args(field)
        if required:
            assert name in ROOT_ARGS, f"root field {name} needs arguments: add them to ROOT_ARGS"
            if ROOT_ARGS[name] is None:
                continue
            variables = ROOT_ARGS[name](world)
        else:
            variables = {}
        for arguments in (variables, *([ROOT_VARIANTS[name](world)] if name in ROOT_VARIANTS else [])):
            args = ", ".join(f"{k}: {json.dumps(v)}" for k, v in arguments.items())
            query = f"{{ {name}{f'({args})' if args else ''} {{ {selection(_unwrap(field.type), DEPTH)} }} }}"
            queries.append((name, query))
    return queries


def test_node_returns_the_object_exactly_to_its_row(matrix):
    aliases = {f"t{i}": (type_name, gid(type_name, matrix[row.obj].pk))
               for i, (type_name, row) in enumerate(sorted(ROWS.items()))}
    query = "{ " + " ".join(f'{alias}: node(id: "{global_id}") {{ id }}'
                            for alias, (_, global_id) in aliases.items()) + " }"
    wrong = []
    for who in sorted(PRINCIPALS):
        data, errors = execute(matrix, who, query)
        assert not errors, (who, errors)
        for alias, (type_name, _global_id) in aliases.items():
            seen = data[alias] is not None
            if seen != (who in ROWS[type_name].sees):
                wrong.append(f"{type_name} {'seen' if seen else 'not seen'} by {who}")
    assert not wrong, "; ".join(wrong)


def test_no_root_field_or_nested_path_leaks_an_object_outside_its_row(matrix):
    queries = root_queries(matrix)
    assert len(queries) > 20
    leaks = []
    for who in sorted(PRINCIPALS):
        hidden = {gid(type_name, matrix[row.obj].pk): type_name for type_name, row in ROWS.items()
                  if who not in row.sees}
        for name, query in queries:
            data, errors = execute(matrix, who, query)
            unexpected = [e for e in errors or [] if not isinstance(e.original_error, DomainError)]
            assert not unexpected, (name, who, unexpected)  # refusals only: the query itself is valid
            text = json.dumps(data)
            leaks += [f"{type_name} through {name} to {who}" for global_id, type_name in hidden.items()
                      if global_id in text]
    assert not leaks, "; ".join(leaks)


def test_owner_lists_show_the_objects(matrix):
    """The scan above must not pass vacuously: the lists of the owner's bureau and the coordinator do carry
    every row's object."""
    seen = set()
    for who in ("coordinator", "bureau_a"):
        for _name, query in root_queries(matrix):
            text = json.dumps(execute(matrix, who, query)[0])
            seen |= {type_name for type_name, row in ROWS.items() if gid(type_name, matrix[row.obj].pk) in text}
    assert seen == set(ROWS), set(ROWS) - seen


def _edges():
    """(parent type, field name, model relation, child type) for every relation field between model types."""
    from graphene.utils.str_converters import to_snake_case

    for type_name, cls in model_types().items():
        model = cls._meta.model
        for field_name, field in schema.graphql_schema.get_type(type_name).fields.items():
            inner = _unwrap(field.type)
            if inner.name.endswith("Connection"):  # a nested connection: its nodes
                inner = _unwrap(_unwrap(inner.fields["edges"].type).fields["node"].type)
            child = getattr(inner, "graphene_type", None)
            if child not in model_types().values() or issubclass(child, PublicObjectType):
                continue
            relation = model._meta.get_field(to_snake_case(field_name))  # an object field is a relation
            assert relation.related_model is child._meta.model, (type_name, field_name)
            yield cls, field_name, relation, child


def test_every_edge_leads_only_to_visible_objects(matrix):
    edges = list(_edges())
    assert len(edges) >= 10
    crossings, leaks = 0, []
    for who in sorted(PRINCIPALS - {"anonymous"}):
        user = matrix["principals"][who]
        for parent, name, relation, child in edges:
            parents = parent.scope(parent._meta.model.objects.all(), user)
            visible = child.scope(child._meta.model.objects.all(), user)
            if relation.many_to_one or relation.one_to_one and not relation.auto_created:
                reached = child._meta.model.objects.filter(pk__in=parents.values(relation.attname))
            else:  # a reverse relation: the children of visible parents
                reached = child._meta.model.objects.filter(**{f"{relation.field.name}__in": parents.values("pk")})
            crossings += reached.count()
            hidden = list(reached.exclude(pk__in=visible.values("pk")).values_list("pk", flat=True))
            if hidden:
                leaks.append(f"{parent.__name__}.{name} → {child.__name__} {hidden} for {who}")
    assert crossings > 50  # the world really exercises the edges
    assert not leaks, "; ".join(leaks)
