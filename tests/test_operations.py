"""Every client operation in graphql/operations/ parses and validates against the schema, so an
operation added or a schema change that breaks one fails here (behaviour is tested by each app)."""
import pytest

from config.schema import schema
from graphql import parse, validate
from tests.conftest import OPERATIONS

FILES = sorted(OPERATIONS.glob("*.graphql"))


def test_operations_folder_is_not_empty():
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_operation_validates_against_the_schema(path):
    errors = validate(schema.graphql_schema, parse(path.read_text(encoding="utf-8")))
    assert not errors, [e.message for e in errors]
