"""graphql-core's executor with a short path for the fields graphene answers by reading an attribute.

Most fields of a page (a listing's title, its agency, the agency's name, the edges of a connection) have no
resolver of their own: graphene reads the attribute of the same name. graphql-core still builds a
ResolveInfo, coerces the arguments and runs every middleware for each of them, which is most of the time of
a large page. Here a field read off an attribute, with no arguments in the query, skips all of that: a leaf
is serialized as graphql-core serializes it, anything else is completed by graphql-core itself (its own
fields take the same short path). Fields with their own resolver or with arguments go the usual way,
middleware included, so the time budget (api.limits) is checked wherever work is done and domain errors
are typed. If reading the attribute raises, or a leaf reads null where the schema says non-null, or its
value does not serialize, the field is executed the usual way instead, so errors are reported as before.

Synchronous only: the view runs it with `is_awaitable` answering False (config.graphql_view).
"""
from functools import partial

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver
from graphql.execution.execute import get_field_def
from graphql.pyutils import Path, Undefined

from graphql import ExecutionContext as CoreExecutionContext
from graphql import GraphQLNonNull, is_leaf_type, located_error

_READS_ATTRIBUTE = (dict_or_attr_resolver, attr_resolver)
_USUAL = object()  # "execute this field the usual way"


def read_attribute(field_def, nodes):
    """(attname, default) when graphene answers the field by reading an attribute and the query passes it no
    arguments, else None."""
    resolve = field_def.resolve
    if (isinstance(resolve, partial) and resolve.func in _READS_ATTRIBUTE and len(resolve.args) == 2
            and not resolve.keywords and not nodes[0].arguments):
        return resolve.args
    return None


class ExecutionContext(CoreExecutionContext):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plans = {}  # (parent type, its collected fields) → how each field is executed

    def execute_fields(self, parent_type, source_value, path, fields):
        key = (parent_type, id(fields))  # graphql-core keeps each collected `fields` for the whole request
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = [(name, nodes, self._short_path(parent_type, nodes))
                                       for name, nodes in fields.items()]
        results = {}
        for name, nodes, short in plan:
            if short is not None:
                result = short(source_value, parent_type, nodes, path, name)
                if result is not _USUAL:
                    results[name] = result
                    continue
            result = self.execute_field(parent_type, source_value, nodes, Path(path, name, parent_type.name))
            if result is not Undefined:
                results[name] = result
        return results

    def _short_path(self, parent_type, nodes):
        field_def = get_field_def(self.schema, parent_type, nodes[0])
        attribute = field_def and read_attribute(field_def, nodes)
        if attribute is None:
            return None
        attname, default = attribute
        return_type = field_def.type
        non_null = isinstance(return_type, GraphQLNonNull)
        named = return_type.of_type if non_null else return_type

        def read(source):
            return source.get(attname, default) if isinstance(source, dict) else getattr(source, attname, default)

        if is_leaf_type(named):
            serialize = named.serialize

            def leaf(source, parent_type, nodes, path, name):
                try:
                    value = read(source)
                    if value is None or value is Undefined:
                        return _USUAL if non_null else None
                    if isinstance(value, Exception):
                        return _USUAL
                    serialized = serialize(value)
                except Exception:  # noqa: BLE001 - the usual path reports it
                    return _USUAL
                return _USUAL if serialized is None or serialized is Undefined else serialized
            return leaf

        def composite(source, parent_type, nodes, path, name):
            try:
                value = read(source)
            except Exception:  # noqa: BLE001 - the usual path reports it
                return _USUAL
            field_path = Path(path, name, parent_type.name)
            info = self.build_resolve_info(field_def, nodes, parent_type, field_path)
            try:
                return self.complete_value(return_type, nodes, info, field_path, value)
            except Exception as raw_error:  # noqa: BLE001 - as graphql-core's execute_field handles it
                self.handle_field_error(located_error(raw_error, nodes, field_path.as_list()), return_type,
                                        field_path)
                return None
        return composite
