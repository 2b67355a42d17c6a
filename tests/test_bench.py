"""The benchmark harness: unmeasurable figures become null with a reason, the table shows them, and the
run refuses a non-PostGIS database instead of producing misleading numbers."""
import pytest
from django.db import connection

from bench import run


@pytest.fixture(autouse=True)
def fresh_results(monkeypatch):
    monkeypatch.setattr(run, "results", {})
    monkeypatch.setattr(run, "notes", {})


def test_unavailable_writes_null_with_reason():
    run.unavailable(["pdf_rows", "pdf_ratio"], "reports renderer not available")
    assert run.results == {"pdf_rows": None, "pdf_ratio": None}
    assert run.notes == {"pdf_rows": "reports renderer not available"}
    assert ["pdf_ratio", "null", "<=", "1.3"] in [line.split() for line in run.table().splitlines()]


def test_failing_step_is_reported_not_fatal(capsys):
    def broken():
        raise ValueError("selector missing")

    run.run_step("knn", broken, keys=["knn_ratio"])
    assert run.results["knn_ratio"] is None
    assert run.notes["knn_error"] == "ValueError: selector missing"


@pytest.mark.django_db
def test_refuses_spatialite():
    if connection.vendor == "postgresql":
        pytest.skip("only meaningful on SpatiaLite")
    with pytest.raises(SystemExit, match="PostGIS"):
        run.main()
