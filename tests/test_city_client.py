"""graphql/examples/city_client.py, the script a member city's developer starts from, runs green against a live
server on the demo data (`make run` loads the same): login with CSRF, token, agencies, search near a point with
cursors, request, lights, certificate PDF and public verification."""
import importlib.util

from django.conf import settings

from tests.test_browser import delete_triggers, server  # noqa: F401 (fixtures)


def test_city_client_runs_green_on_the_demo(server, capsys):  # noqa: F811
    from django.core.management import call_command

    call_command("load_demo")
    path = settings.BASE_DIR / "graphql" / "examples" / "city_client.py"
    spec = importlib.util.spec_from_file_location("city_client", path)
    city_client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(city_client)
    assert city_client.main(["--base", server.url, "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "[4] requested" in out and "sha256 verified" in out and "verified publicly" in out
