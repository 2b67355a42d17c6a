"""api.execution answers exactly what graphql-core's own executor answers (data, errors, their paths and
codes) while attribute-read fields skip the middleware; fields with a resolver or arguments still run them."""
import graphene
import pytest

from api.execution import ExecutionContext
from api.middleware import DomainErrorMiddleware
from graphql import ExecutionContext as CoreExecutionContext
from graphql import graphql_sync
from kernel.errors import ValidationFailed


class Thing:
    def __init__(self, name, parent=None, children=(), fails=False):
        self.name, self.parent, self.children, self.fails = name, parent, list(children), fails
        self.nothing = None

    @property
    def refused(self):
        raise ValidationFailed("no", field="refused")

    @property
    def broken(self):
        if self.fails:
            raise RuntimeError("broken attribute")
        return "fine"


class Colour(graphene.Enum):
    RED = "red"
    BLUE = "blue"


class ThingType(graphene.ObjectType):
    name = graphene.String(required=True)
    shout = graphene.String(required=True)
    nothing = graphene.String(required=True)  # non-null, reads None: an error that nulls the parent
    maybe = graphene.String(name="maybe")
    refused = graphene.String()
    broken = graphene.String()
    colour = Colour()
    count = graphene.Int()
    parent = graphene.Field(lambda: ThingType)
    children = graphene.List(graphene.NonNull(lambda: ThingType), required=True)
    first_children = graphene.List(lambda: ThingType, n=graphene.Int(default_value=1))

    def resolve_shout(root, info):
        return root.name.upper()

    def resolve_first_children(root, info, n):
        return root.children[:n]


class Query(graphene.ObjectType):
    thing = graphene.Field(ThingType)
    things = graphene.List(ThingType)
    plain = graphene.Field(ThingType)

    def resolve_thing(root, info):
        leaf = Thing("leaf", fails=True)
        leaf.colour, leaf.count = "blue", "not a number"
        return Thing("root", parent=Thing("up"), children=[leaf, Thing("other")])

    def resolve_things(root, info):
        return [Thing("a"), {"name": "from a dict", "colour": "red"}, Thing("b", fails=True)]


SCHEMA = graphene.Schema(query=Query).graphql_schema

DOCUMENTS = [
    "{ thing { name shout maybe colour refused broken parent { name parent { name } } children { name colour } } }",
    "{ thing { children { name count broken } } }",
    "{ thing { parent { nothing } name } }",
    "{ thing { children { nothing } } }",
    "{ things { name colour broken } }",
    "{ thing { firstChildren { name } firstChildren2: firstChildren(n: 2) { name } } }",
    "{ thing { __typename name alias: name ...F } } fragment F on ThingType { shout children { name } }",
]


class Counting:
    def __init__(self):
        self.fields = []

    def resolve(self, next_, root, info, **args):
        self.fields.append(info.field_name)
        return next_(root, info, **args)


def run(document, context_class):
    counting = Counting()
    result = graphql_sync(SCHEMA, document, execution_context_class=context_class,
                          middleware=[counting, DomainErrorMiddleware()])
    errors = sorted((e.message, tuple(e.path or ()), tuple(sorted((e.extensions or {}).items())))
                    for e in result.errors or [])
    return result.data, errors, counting.fields


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_short_path_answers_what_graphql_core_answers(document):
    data, errors, _ = run(document, ExecutionContext)
    expected_data, expected_errors, _ = run(document, CoreExecutionContext)
    assert (data, errors) == (expected_data, expected_errors)


def test_attribute_fields_skip_the_middleware_and_resolvers_do_not():
    _, errors, fields = run(DOCUMENTS[0], ExecutionContext)
    _, _, every = run(DOCUMENTS[0], CoreExecutionContext)
    assert "shout" in fields and "thing" in fields  # own resolvers: middleware ran
    assert "name" not in fields and "colour" not in fields and "parent" not in fields
    assert "refused" in fields and "broken" not in fields  # raised on the short path: executed the usual way
    assert len(fields) < len(every) / 2
    # the domain error was typed by the middleware, as before
    assert any(dict(ext).get("code") == "invalid" and path == ("thing", "refused") for _, path, ext in errors)
