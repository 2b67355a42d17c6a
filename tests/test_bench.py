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
    assert ["pdf_ratio", "null", "<=", "1.15", "-"] in [line.split() for line in run.table().splitlines()]


def test_targets_are_the_issues_and_say_pass_or_fail():
    run.results.update(knn_ms_median=2.5, knn_ratio_same_filter=1.2, double_allocations=0, durable_commits=False,
                       optimizer_seconds=5, knn_ratio_ids_only=3.1)
    block = run.targets()
    assert block["knn_ms_median"] == {"target": "<= 2", "value": 2.5, "pass": False}
    assert block["knn_ratio_same_filter"]["pass"] is True
    assert block["double_allocations"]["pass"] is True and block["durable_commits"]["pass"] is False
    assert block["optimizer_seconds"] == {"target": "< 5", "value": 5, "pass": False}
    assert block["knn_ratio_ids_only"] == {"target": "reported", "value": 3.1, "pass": None}
    assert {"ledger_batch_posts_per_s", "ledger_single_posts_per_s", "listing_page_ms_1m", "list_query_count_max",
            "endpoint_nearby_p50_ms", "endpoint_nearby_share_of_healthz", "import_ratio",
            "optimizer_saving_vs_nearest_pct"} <= set(block)


def test_interleaved_runs_every_variant_in_every_round():
    calls = []
    per_round = run.interleaved({"a": lambda x: calls.append(("a", x)), "b": lambda x: calls.append(("b", x))},
                                [(1,), (2,)], rounds=3)
    assert {k: len(v) for k, v in per_round.items()} == {"a": 3, "b": 3}
    assert len(calls) == 12 and calls[:2] == [("a", 1), ("b", 1)] and calls[2:4] == [("a", 2), ("b", 2)][::-1]


def test_failing_step_is_reported_not_fatal(capsys):
    def broken():
        raise ValueError("selector missing")

    run.run_step("knn", broken, keys=["knn_ratio_same_filter"])
    assert run.results["knn_ratio_same_filter"] is None
    assert run.notes["knn_error"] == "ValueError: selector missing"


@pytest.mark.django_db
def test_refuses_spatialite():
    if connection.vendor == "postgresql":
        pytest.skip("only meaningful on SpatiaLite")
    with pytest.raises(SystemExit, match="PostGIS"):
        run.main()


def test_the_readme_block_shows_every_target_and_the_baselines():
    from bench import table

    run.results.update(knn_ms_median=3.1, knn_raw_same_filter_ms=1.9, knn_raw_same_filter_unprepared_ms=2.0,
                       knn_raw_ids_only_ms=0.4, pdf_seconds=2.6, pdf_raw_seconds=2.9, total_seconds=600.0,
                       git_commit="abc1234", knn_points=1_000_000)
    results = {**run.results, "targets": run.targets()}
    block = table.readme_block(results)
    for key in run.TARGETS:
        assert f"| `{key}` |" in block
    assert "| `knn_ms_median` | 3.1 | <= 2 | **fail** |" in block
    assert "3.1 ms against the same filter and columns in hand-written SQL 1.9 ms" in block
    assert "2.6 s against 2.9 s" in block and "optimizer" not in block.split("Beside ours")[1]
