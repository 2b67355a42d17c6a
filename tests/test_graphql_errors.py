"""One error shape and one set of codes: mutations `errors: [{field, path, code, message}]`, query errors
`extensions.code` and the REST endpoints use the ErrorCode enum's values, spelled alike; the README's table is
generated from the enum; rate-limit headers on every response; the persisted-operations option."""
import json
import re

import pytest
from django.conf import settings
from django.core.cache import caches

from api.errors import ErrorCode, error_code_table, with_error_code_table
from kernel.errors import ERROR_CODES, DomainError, public_code
from tests.conftest import OPERATIONS

ENUM_VALUES = set(ErrorCode._meta.enum.__members__)


@pytest.fixture(autouse=True)
def fresh_cache():
    for alias in ("default", "ratelimit"):
        caches[alias].clear()
    yield
    for alias in ("default", "ratelimit"):
        caches[alias].clear()


def test_readme_table_is_generated_from_the_enum():
    readme = (settings.BASE_DIR / "graphql" / "README.md").read_text(encoding="utf-8")
    assert with_error_code_table(readme) == readme, "run `make schema` to regenerate the table"
    table_codes = re.findall(r"^\| `([A-Z_]+)` \|", error_code_table(), re.M)
    assert table_codes == list(ErrorCode._meta.enum.__members__) and len(table_codes) == len(ERROR_CODES)


def test_every_code_raised_in_the_source_is_in_the_catalogue():
    """Every `code="…"` a service or door can raise, and every DomainError subclass, has a public code."""
    literals = set()
    for path in settings.BASE_DIR.glob("*/**/*.py"):
        if path.parts[len(settings.BASE_DIR.parts)] in (".venv", "tests", "bench", "var", "node_modules"):
            continue
        text = path.read_text(encoding="utf-8")
        literals |= {code for line in text.splitlines() if "egion" not in line  # region codes are data
                     for code in re.findall(r"\bcode\s*=\s*\"([a-z_]+)\"", line)}
        literals |= set(re.findall(r"\"code\":\s*\"([a-z_]+)\"", text))
        literals |= set(re.findall(r"ContractError\(\d+, \"([a-z_]+)\"", text))
    subclasses, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        subclasses.add(cls.code)
        todo += cls.__subclasses__()
    unknown = sorted(code for code in literals | subclasses if code not in ERROR_CODES)
    assert unknown == []
    assert {public_code(c) for c in ERROR_CODES} == ENUM_VALUES


def test_query_mutation_and_rest_errors_share_the_codes(gql, client, region_world):
    gql.login(region_world["users"]["staff_b"])
    query_error = gql.execute('{ transfer(id: "VHJhbnNmZXI6OTk5OTk=") { id } }')["errors"][0]
    assert query_error["extensions"] == {"code": "NOT_FOUND", "field": "id"}
    mutation = gql.execute("""mutation { withdrawListing(input: {listingId: "TGlzdGluZzo5OTk5OQ==", reason: "x"}) {
        errors { field path code message } } }""")["data"]["withdrawListing"]
    assert mutation["errors"] == [{"field": "listingId", "path": ["listingId"], "code": "NOT_FOUND",
                                   "message": mutation["errors"][0]["message"]}]
    rest = client.get("/reports/verify/NOPE", HTTP_ACCEPT="application/json")
    assert rest.status_code == 404 and rest.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    client.logout()
    refused = client.get("/reports/download/1")
    assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    for code in ("NOT_FOUND", "NOT_AUTHENTICATED"):
        assert code in ENUM_VALUES


def test_every_response_carries_rate_limit_headers(gql, client, region_world, settings):
    settings.GRAPHQL_TOKEN_RATE = "5/m"
    responses = [client.post("/graphql/", json.dumps({"query": "{ me { username } }"}),
                             content_type="application/json") for _ in range(6)]
    remaining = [int(r["X-RateLimit-Remaining"]) for r in responses]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert remaining == [4, 3, 2, 1, 0, 0]
    assert all(r["X-RateLimit-Limit"] == "5" and int(r["X-RateLimit-Reset"]) > 1_700_000_000 for r in responses)
    bad_token = client.post("/graphql/", "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer nope")
    assert bad_token.status_code == 401 and "X-RateLimit-Remaining" in bad_token


def test_persisted_operations_only(gql, region_world, settings):
    settings.GRAPHQL_PERSISTED_OPERATIONS = str(OPERATIONS)
    gql.login(region_world["users"]["coordinator"])
    stored = (OPERATIONS / "Jurisdictions.graphql").read_text(encoding="utf-8")
    by_name = gql.client.post("/graphql/", json.dumps({"operationName": "Jurisdictions", "variables": {"first": 1}}),
                              content_type="application/json", **gql.headers)
    assert by_name.status_code == 200 and "errors" not in by_name.json(), by_name.content
    reformatted = "# reformatted\n" + "\n".join(line.strip() for line in stored.splitlines())
    same = gql.client.post("/graphql/", json.dumps({"query": reformatted,
                                                    "operationName": "Jurisdictions", "variables": {"first": 1}}),
                           content_type="application/json", **gql.headers)
    assert same.status_code == 200 and "errors" not in same.json()
    for body in ({"query": "{ jurisdictions { totalCount } }"},
                 {"query": "query Jurisdictions { jurisdictions { totalCount } }", "operationName": "Jurisdictions"},
                 {"operationName": "NoSuchOperation"}):
        refused = gql.client.post("/graphql/", json.dumps(body), content_type="application/json", **gql.headers)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
