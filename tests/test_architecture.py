"""Structure rules that import-linter cannot see (docs/architecture.md, "Inside an app")."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("exchange", "regions", "ledger", "lifecycle", "reports", "evaluation", "notifications", "kernel")


def _domain_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "services" in parts or "selectors" in parts or path.stem in ("services", "selectors", "builders"):
                yield path


def _camel_fields(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "field" and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str) and node.value.value != node.value.value.lower():
            yield node.value.lineno, node.value.value


@pytest.mark.parametrize("path", list(_domain_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_name_fields_in_snake_case(path):
    """The GraphQL layer camelizes; a camelCase name in a service would tie it to one transport."""
    assert list(_camel_fields(path)) == []


def test_services_never_take_the_request():
    offenders = [str(p.relative_to(ROOT)) for p in _domain_modules()
                 if "build_absolute_uri" in p.read_text(encoding="utf-8")]
    assert offenders == []
