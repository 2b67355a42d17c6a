"""Production leaks: GraphiQL, field suggestions, no Content-Security-Policy, `make run` on every interface;
and formula cells in exports."""
import json
import os
import subprocess
import sys

from django.conf import settings

from kernel.spreadsheet import neutralise


def _production_settings():
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.GRAPHIQL, s.GRAPHQL_FIELD_SUGGESTIONS, s.GRAPHQL_INTROSPECTION, s.DEBUG]))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "production",
           "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "gwc.example"}
    out = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_turns_graphiql_suggestions_introspection_and_debug_off():
    assert _production_settings() == [False, False, False, False]


def test_the_rate_limit_cache_table_comes_with_the_migrations(db):
    """Production counts rate limits in the database cache when no Redis is configured: the table must
    exist wherever the migrations ran (PostgreSQL: usable by the application's role)."""
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connection

    assert "gwc_cache" in connection.introspection.table_names()
    store = DatabaseCache("gwc_cache", {})
    store.set("probe", 1)
    assert store.incr("probe") == 2


def test_every_response_has_a_content_security_policy(client, region_world):
    for url in ("/accounts/login/", "/healthz"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    client.force_login(region_world["users"]["staff_a"])
    response = client.post("/graphql/", json.dumps({"query": "{ me { username } }"}), content_type="application/json")
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_field_suggestions_are_off_when_configured(client, region_world, settings):
    client.force_login(region_world["users"]["staff_a"])

    def message():
        response = client.post("/graphql/", json.dumps({"query": "{ transfr { totalCount } }"}),
                               content_type="application/json")
        return response.json()["errors"][0]["message"]

    settings.GRAPHQL_FIELD_SUGGESTIONS = True
    assert "Did you mean" in message()
    settings.GRAPHQL_FIELD_SUGGESTIONS = False
    assert message() == "Cannot query field 'transfr' on type 'Query'."


def test_make_run_binds_localhost_unless_host_says_otherwise():
    script = (settings.BASE_DIR / "scripts" / "run.sh").read_text()
    assert "HOST=${HOST:-127.0.0.1}" in script and '"$HOST:$PORT"' in script


def test_formula_cells_are_neutralised_in_exports(tmp_path):
    from exchange.services.bulk_import import write_error_report

    for cell in ("=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "\t=1"):
        assert neutralise(cell) == "'" + cell
    assert neutralise("上海") == "上海" and neutralise(5) == 5
    path = tmp_path / "errors.csv"
    write_error_report([{"row": 2, "field": "description", "message": "=cmd|' /C calc'!A0"}], path)
    assert "'=cmd" in path.read_text(encoding="utf-8-sig")
