import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f

OPERATIONS = Path(__file__).resolve().parent.parent / "graphql" / "operations"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgis` prove behaviour SQLite cannot show (row locks, concurrency): they run in
    `make test-postgis` and are skipped, with the reason, on the embedded SpatiaLite default."""
    from django.conf import settings

    if not settings.SPATIALITE:
        return
    skip = pytest.mark.skip(reason="needs PostGIS (run `make test-postgis`)")
    for item in items:
        if "postgis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """PostgreSQL with two roles (scripts/test-postgis.sh): the owner creates and migrates the test
    database; the tests then run as the application's role, which owns nothing."""
    from django.conf import settings

    if settings.DATABASE_OWNER:
        from kernel import pgroles

        pgroles.use_owner()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.conf import settings

    if not settings.DATABASE_OWNER:
        yield
        return
    from kernel import pgroles

    pgroles.use_app_role()
    yield
    pgroles.use_owner()  # the owner drops the test database


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; a real password hash costs ~1 s each on this 2-core machine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language (zh-Hans): a request with Accept-Language: en activates
    English in the test's thread and would otherwise leak into the next test."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters live in the cache; user ids repeat across rolled-back tests on SQLite."""
    from django.core.cache import caches

    for alias in ("default", "ratelimit"):
        caches[alias].clear()


@pytest.fixture
def region_world(db):
    """Two member cities of one region (A near Shanghai, B near Hangzhou) with one agency each, a
    third city outside the region, and one user per role."""
    region = f.RegionFactory(code="yrd-test", name_zh="测试区域", name_en="Test region")
    city_a = f.JurisdictionFactory(code="310000", name_zh="上海市", name_en="Shanghai", lon=121.47, lat=31.23)
    city_b = f.JurisdictionFactory(code="330100", name_zh="杭州市", name_en="Hangzhou", lon=120.16, lat=30.27)
    outside = f.JurisdictionFactory(code="110000", name_zh="北京市", name_en="Beijing", lon=116.4, lat=39.9)
    for j in (city_a, city_b):
        f.MembershipFactory(region=region, jurisdiction=j)
    agency_a = f.AgencyFactory(jurisdiction=city_a, name_zh="上海甲单位")
    agency_b = f.AgencyFactory(jurisdiction=city_b, name_zh="杭州乙单位")
    agency_out = f.AgencyFactory(jurisdiction=outside, name_zh="北京丙单位")
    users = {
        "coordinator": f.user_with_role("coordinator", region, "coordinator"),
        "auditor": f.user_with_role("auditor", region, "auditor"),
        "bureau_a": f.user_with_role("bureau_manager", city_a, "bureau_a"),
        "bureau_b": f.user_with_role("bureau_manager", city_b, "bureau_b"),
        "staff_a": f.user_with_role("agency_staff", agency_a, "staff_a"),
        "staff_b": f.user_with_role("agency_staff", agency_b, "staff_b"),
        "outsider": f.user_with_role("bureau_manager", outside, "outsider"),
    }
    return {"region": region, "city_a": city_a, "city_b": city_b, "outside": outside, "agency_a": agency_a,
            "agency_b": agency_b, "agency_out": agency_out, "users": users}


class GraphQLClient:
    """Posts to /graphql/ like a real client: session login for a user, or a Bearer token."""

    def __init__(self, client):
        self.client = client
        self.headers = {}

    def login(self, user):
        self.client.force_login(user)
        self.headers = {}
        return self

    def token(self, key):
        self.client.logout()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        return self

    def execute(self, query, variables=None, status=200):
        response = self.client.post("/graphql/", json.dumps({"query": query, "variables": variables or {}}),
                                    content_type="application/json", **self.headers)
        assert response.status_code == status, response.content
        return response.json()

    def operation(self, name, variables=None, status=200):
        """Execute graphql/operations/<name>.graphql, the operations real city clients send."""
        return self.execute((OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8"), variables, status)


@pytest.fixture
def gql(client):
    return GraphQLClient(client)


@contextmanager
def count_queries():
    """Capture the SQL queries run inside the block: `with count_queries() as ctx: ...; len(ctx)`."""
    with CaptureQueriesContext(connection) as ctx:
        yield ctx


@pytest.fixture
def assert_num_queries_constant(gql):
    """Run an operation at two page sizes and assert the SQL query count does not grow with it."""

    def check(query, make_variables, small=1, large=100, maximum=None):
        gql.execute(query, make_variables(large))  # warm the per-process reference caches, as a server's are
        counts = []
        for size in (small, large):
            with count_queries() as ctx:
                result = gql.execute(query, make_variables(size))
            assert "errors" not in result, result
            counts.append(len(ctx))
        assert counts[0] == counts[1], f"query count grows with page size: {counts}"
        if maximum is not None:
            assert counts[0] <= maximum, f"{counts[0]} queries > {maximum}"
        return counts[0]

    return check
