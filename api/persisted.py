"""Persisted operations, an option for production: with `GRAPHQL_PERSISTED_OPERATIONS` set to a directory of
`.graphql` files (e.g. `graphql/operations`), the endpoint runs only the operations defined there.

A client sends `operationName` and, optionally, the document: without `query` the stored document of that name is
run; with `query`, it must be the stored document (compared after parsing, so comments and layout do not
matter). Anything else is refused before execution with HTTP 400 `operation_not_allowed`. The allow-list is an
allow-list of whole documents, so a changed selection set is refused too.
"""
import functools
from pathlib import Path

from django.conf import settings

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse, print_ast


def enabled():
    return bool(getattr(settings, "GRAPHQL_PERSISTED_OPERATIONS", ""))


@functools.cache
def _registry(directory: str) -> dict:
    """{operation name: normalised document} of every operation defined in the directory's files."""
    found = {}
    for path in sorted(Path(directory).glob("*.graphql")):
        document = parse(path.read_text(encoding="utf-8"))
        text = print_ast(document)
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
                found[definition.name.value] = text
    return found


def registry():
    directory = Path(settings.GRAPHQL_PERSISTED_OPERATIONS)
    if not directory.is_absolute():
        directory = settings.BASE_DIR / directory
    return _registry(str(directory))


def allowed_document(query, operation_name):
    """The document to run, or None when the request is not a persisted operation."""
    stored = registry().get(operation_name or "")
    if stored is None:
        return None
    if not query:
        return stored
    try:
        return stored if print_ast(parse(query)) == stored else None
    except GraphQLSyntaxError:
        return None
