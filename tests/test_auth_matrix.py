"""Every GraphQL mutation is in the authorization matrix (tests/auth_matrix_cases.py), and each row's
refused role gets a typed refusal and changes nothing, while its allowed role is not refused."""
import pytest
from django.apps import apps

from config.schema import schema
from kernel.models import AuditEvent
from tests import factories as f
from tests.auth_matrix_cases import CASES, DUTY_CASES

REFUSALS = {"PERMISSION_DENIED", "NOT_AUTHENTICATED"}
UNTRACKED = {"sessions", "axes", "admin"}  # login bookkeeping, not domain state


def mutation_names():
    return sorted(schema.graphql_schema.mutation_type.fields)


def test_every_mutation_has_a_matrix_row():
    missing = [name for name in mutation_names() if name not in CASES]
    assert not missing, (
        "Mutations without a row in tests/auth_matrix_cases.py CASES (add a builder returning "
        f"(query, variables, allowed_user, refused_user) for each): {', '.join(missing)}")


def test_matrix_has_no_stale_rows():
    assert not set(CASES) - set(mutation_names())


def _fingerprint():
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()
              if m._meta.app_label not in UNTRACKED and not m._meta.proxy}
    return counts, AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()


def _codes(result):
    payload = next(iter(result["data"].values()))
    return {e["code"] for e in payload["errors"]}


@pytest.fixture
def world(region_world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # photos and import files of allowed runs
    region_world["standard_set"] = f.StandardSetFactory(region=region_world["region"])
    return region_world


@pytest.mark.parametrize("name", sorted(CASES) + sorted(DUTY_CASES))
def test_refused_role_gets_a_typed_refusal_and_changes_nothing(world, gql, name):
    """Also the separation-of-duties rows (DUTY_CASES): the refused person holds the role but already acted on
    the same transfer."""
    query, variables, allowed, refused = (CASES.get(name) or DUTY_CASES[name])(world)
    before = _fingerprint()
    result = gql.login(refused).execute(query, variables)
    assert "errors" not in result, result
    assert _codes(result) & REFUSALS, f"{name} as {refused}: {result}"
    assert _fingerprint() == before
    result = gql.login(allowed).execute(query, variables)
    assert "errors" not in result, result
    assert not _codes(result) & REFUSALS, f"{name} as {allowed}: {result}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_anonymous_is_refused(world, gql, name):
    query, variables, _allowed, _refused = CASES[name](world)
    before = _fingerprint()
    result = gql.client.post("/graphql/", {"query": query, "variables": variables}, content_type="application/json")
    body = result.json()
    codes = ({e.get("extensions", {}).get("code", "").upper() for e in body.get("errors", [])}
             | (_codes(body) if body.get("data") else set()))
    assert codes & REFUSALS, body
    assert _fingerprint() == before


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_only_tokens_change_nothing(world, gql, name):
    """A read-only token of either city of the row (A's, whose objects most rows act on, and B's, the
    counterparty) is refused by every mutation and changes nothing: no write, no job. (What the token cannot
    see is NOT_FOUND, also a refusal.)"""
    from django.db import transaction

    from regions.services import tokens

    with transaction.atomic():
        keys = [tokens.create_token(world["users"][who], world[city], name="read-only")[1]
                for who, city in (("bureau_a", "city_a"), ("bureau_b", "city_b"))]
    query, variables, _allowed, _refused = CASES[name](world)
    before = _fingerprint()
    for key in keys:
        response = gql.client.post("/graphql/", {"query": query, "variables": variables},
                                   content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
        body = response.json()
        codes = ({e.get("extensions", {}).get("code", "").upper() for e in body.get("errors", [])}
                 | (_codes(body) if body.get("data") else set()))
        assert codes & (REFUSALS | {"NOT_FOUND"}), (name, body)
        assert _fingerprint() == before, name
