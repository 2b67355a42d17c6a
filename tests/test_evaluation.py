"""Performance evaluation (绩效评估): indicator formulas, the fact database, frozen cycles that recompute
exactly from their exported facts, objections as new versions, publication, external evaluators."""
import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from evaluation import exports, indicators, selectors, services
from evaluation.models import Evaluation, EvaluationFact, EvaluationScore
from evaluation.scoring import FormulaError, IndicatorSpec, evaluate, fact_codes, parse, score
from exchange.services import handover
from kernel.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from tests import factories as f
from tests import factories_exchange as fx
from tests.test_exchange_services import approve_all, request

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


# --- scoring (no database) ---------------------------------------------------------------------------
def test_formula_is_arithmetic_over_fact_codes_only():
    assert fact_codes("(given_value - x) / listed_value") == ["given_value", "listed_value", "x"]
    assert evaluate("a / b", {"a": D(1), "b": D(4)}) == D("0.25")
    assert evaluate("a / b", {"a": D(1), "b": D(0)}) is None  # not applicable, not zero
    assert evaluate("a - b", {"a": D(1)}) is None
    for bad in ("__import__('os')", "a.b", "a[0]", "'x'", "a if b else c", "a ** 2", "lambda: 1"):
        with pytest.raises(FormulaError):
            parse(bad)


def test_scores_min_max_inverted_for_lower_weighted_and_ranked():
    specs = [IndicatorSpec("reuse", "given / listed", True, D(2)), IndicatorSpec("turn", "t", False, D(1))]
    facts = {"a": {"given": D(5), "listed": D(10), "t": D(3)}, "b": {"given": D(0), "listed": D(0), "t": D(5)},
             "c": {"given": D(8), "listed": D(10), "t": D(4)}}
    for unit_facts in facts.values():
        unit_facts["steps_total"] = D(1)
    result = {s.unit: s for s in score(facts, specs)}
    assert result["c"].scores == {"reuse": D(100), "turn": D(50)}
    assert result["a"].scores == {"reuse": D(0), "turn": D(100)}
    assert result["b"].scores["reuse"] is None  # 0/0 is left out of b's weighted score
    assert result["c"].weighted == D("83.33") and result["a"].weighted == D("33.33")
    assert result["b"].weighted == D("0.00")
    assert [s.unit for s in score(facts, specs)] == ["c", "a", "b"]
    assert [result[u].rank for u in "cab"] == [1, 2, 3]


def test_units_without_activity_are_not_rated():
    specs = [IndicatorSpec("savings", "received_value - paid", True, D(1))]
    facts = {"busy": {"received_value": D(5), "paid": D(1)}, "idle": {"received_value": D(0), "paid": D(0)}}
    result = {s.unit: s for s in score(facts, specs)}
    assert result["busy"].rank == 1 and result["idle"].rank is None and result["idle"].weighted is None


def test_equal_values_share_a_rank():
    specs = [IndicatorSpec("x", "x", True, D(1))]
    result = score({"a": {"x": D(1), "steps_total": D(1)}, "b": {"x": D(1), "steps_total": D(1)},
                    "c": {"x": D(0), "steps_total": D(1)}}, specs)
    assert [(s.unit, s.rank, s.weighted) for s in result] == [("a", 1, D("100.00")), ("b", 1, D("100.00")),
                                                              ("c", 2, D("0.00"))]


# --- a region with one completed transfer ---------------------------------------------------------------
@pytest.fixture
def evaluated(region_world):
    world = region_world
    fx.standard_set(world["region"], own_window_days=0)
    world["period"] = services.cycle_period("quarter", timezone.localdate())
    world["indicators"] = indicators.seed(world["region"], world["period"][0])
    listing = fx.open_listing(world, quantity=3, original_value=D("4800.00"), acquired_on=date(2018, 1, 1))
    _, transfer = request(world, listing, quantity=2)
    approve_all(world, transfer)
    handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=2, received_condition="good")
    world["after"] = datetime.combine(world["period"][1] + timedelta(days=1), datetime.min.time(), SH)
    return world


def freeze(world):
    return services.freeze(world["region"], *world["period"], now=world["after"] + timedelta(hours=9))


def by_code(evaluation, code):
    return {s.jurisdiction.code: s for s in selectors.league_table(evaluation)}[code]


def test_cycle_periods():
    assert services.cycle_period("quarter", date(2026, 12, 1)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert services.cycle_period("year", date(2026, 5, 5)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert services.last_ended_cycle("quarter", date(2027, 1, 2)) == (date(2026, 10, 1), date(2026, 12, 31))


def test_facts_count_the_transfer_for_both_units(evaluated):
    evaluation = freeze(evaluated)
    facts = {u.code: f for u, f in services.facts_of(evaluation).items()}
    assert set(facts) == {"310000", "330100"}  # the outside city is not evaluated
    giver, receiver = facts["310000"], facts["330100"]
    assert giver["listed_value"] == D("14400") and giver["given_value"] == D("9600") == giver["reused_value"]
    assert giver["asset_value"] == D("14400")  # 1 unit still held + the 2 given out since the period start
    assert receiver["received_value"] == D("9600") and receiver["transfers_completed"] == 1
    assert receiver["avoided_purchase"] == D("10000")  # 2 units at the standard's price cap of 5,000
    assert receiver["compensation_paid"] == giver["compensation_received"] > 0
    assert giver["steps_total"] == 1 and giver["steps_on_time"] == 1 and giver["steps_red"] == 0


def test_frozen_scores_recompute_exactly_from_the_exported_facts(evaluated):
    evaluation = freeze(evaluated)
    reader = csv.DictReader(io.StringIO(exports.to_csv(evaluation).decode("utf-8-sig")))
    exported, versions = {}, set()
    for row in reader:
        versions.add((row["evaluation_version"], row["indicator_set_version"]))
        exported.setdefault(row["jurisdiction_code"], {})[row["fact"]] = D(row["value"]) if row["value"] else None
    assert versions == {("1", str(evaluated["indicators"].version))}
    recomputed = {s.unit: s for s in score(exported, services.specs(evaluation.indicator_set))}
    stored = {s.jurisdiction.code: s for s in selectors.league_table(evaluation)}
    assert set(recomputed) == set(stored)
    for code, s in stored.items():
        assert (s.weighted_score, s.rank) == (recomputed[code].weighted, recomputed[code].rank)
        for indicator, cell in s.indicators.items():
            value = recomputed[code].values[indicator]
            assert (None if cell["value"] is None else D(cell["value"])) == value


def test_xlsx_and_parquet_exports_hold_the_same_rows(evaluated):
    evaluation = freeze(evaluated)
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(exports.to_xlsx(evaluation))).active
    table = pq.read_table(io.BytesIO(exports.to_parquet(evaluation)))
    count = EvaluationFact.objects.filter(evaluation=evaluation).count()
    assert sheet.max_row == count + 1 and table.num_rows == count
    assert table.schema.metadata[b"indicator_set_version"] == str(evaluation.indicator_set.version).encode()


def test_negative_facts_export_as_numbers_and_text_cannot_start_a_formula(evaluated):
    evaluation = freeze(evaluated)
    objection = services.file_objection(evaluated["users"]["bureau_b"], evaluation, evaluated["city_b"], "更正",
                                        now=evaluation.frozen_at)
    correction = services.decide_objection(evaluated["users"]["coordinator"], objection, upheld=True, reason="更正",
                                           corrections={"compensation_received": "-12.5"}).correction
    rows = list(csv.reader(io.StringIO(exports.to_csv(correction).decode("utf-8-sig"))))
    assert [r[-1] for r in rows if r[5] == "330100" and r[7] == "compensation_received"] == ["-12.500000"]


def test_export_cells_cannot_start_a_formula():
    assert exports.neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)" and exports.neutralise("-1") == "'-1"
    assert exports.neutralise("上海市") == "上海市" and exports.neutralise(Decimal("-1")) == Decimal("-1")


def test_a_cycle_cannot_be_frozen_before_it_ends(evaluated):
    with pytest.raises(InvalidState):
        services.freeze(evaluated["region"], *evaluated["period"], now=timezone.now())


def test_the_scheduler_freezes_once(evaluated):
    today = evaluated["after"].date()
    first = services.close_due_cycles(now=evaluated["after"])
    again = services.close_due_cycles(now=evaluated["after"] + timedelta(hours=1))
    assert [e.pk for e in first] == [e.pk for e in again]
    assert Evaluation.objects.count() == 1
    assert first[0].period_to == today - timedelta(days=1)
    assert first[0].audit_head_hash and first[0].audit_event_count > 0


def test_the_scheduler_catches_up_every_cycle_since_the_set_took_effect(evaluated):
    first_day = evaluated["period"][0] - timedelta(days=200)
    type(evaluated["indicators"]).objects.filter(pk=evaluated["indicators"].pk).update(effective_from=first_day)
    frozen = services.close_due_cycles(now=evaluated["after"])
    assert [e.period_from for e in frozen] == sorted(e.period_from for e in frozen)
    assert frozen[0].period_from <= first_day <= frozen[0].period_to and len(frozen) == 4  # Q1–Q4
    assert len(services.close_due_cycles(now=evaluated["after"])) == 4 == Evaluation.objects.count()


def test_celery_task_closes_the_cycle(evaluated):
    from evaluation.tasks import close_evaluation_cycles

    close_evaluation_cycles.apply(kwargs={"now": evaluated["after"].isoformat()}).get()
    assert Evaluation.objects.filter(version=1).count() == 1


@pytest.mark.parametrize("model", [EvaluationFact, EvaluationScore])
def test_frozen_facts_and_scores_are_append_only(evaluated, model):
    freeze(evaluated)
    row = model.objects.first()
    for statement in (lambda: model.objects.filter(pk=row.pk).update(evaluation=row.evaluation),
                      lambda: model.objects.filter(pk=row.pk).delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()


def test_an_upheld_objection_makes_a_new_version(evaluated):
    evaluation = freeze(evaluated)
    users, city_b = evaluated["users"], evaluated["city_b"]
    before = {s.jurisdiction.code: (s.weighted_score, s.rank) for s in selectors.league_table(evaluation)}
    objection = services.file_objection(users["bureau_b"], evaluation, city_b, "本期另有 2 台已接收未登记",
                                        now=evaluation.frozen_at + timedelta(hours=1))
    decided = services.decide_objection(users["coordinator"], objection, upheld=True, reason="核实属实",
                                        corrections={"received_value": "16000", "avoided_purchase": "20000"})
    correction = decided.correction
    assert correction.version == 2 and correction.supersedes_id == evaluation.pk
    assert services.facts_of(correction)[city_b]["avoided_purchase"] == D("20000")
    assert services.facts_of(evaluation)[city_b]["avoided_purchase"] == D("10000")  # frozen v1 unchanged
    assert {s.jurisdiction.code: (s.weighted_score, s.rank) for s in selectors.league_table(evaluation)} == before
    with pytest.raises(InvalidState):
        services.decide_objection(users["coordinator"], objection, upheld=False, reason="再次")


def test_objections_are_bounded_by_scope_and_time(evaluated):
    evaluation = freeze(evaluated)
    users, city_a, city_b = evaluated["users"], evaluated["city_a"], evaluated["city_b"]
    with pytest.raises(PermissionDenied):
        services.file_objection(users["bureau_b"], evaluation, city_a, "不是我的", now=evaluation.frozen_at)
    with pytest.raises(ValidationFailed):
        services.file_objection(users["bureau_b"], evaluation, city_b, "  ", now=evaluation.frozen_at)
    with pytest.raises(InvalidState):
        services.file_objection(users["bureau_b"], evaluation, city_b, "太晚",
                                now=evaluation.objection_due_at + timedelta(seconds=1))
    objection = services.file_objection(users["bureau_b"], evaluation, city_b, "理由", now=evaluation.frozen_at)
    with pytest.raises(PermissionDenied):
        services.decide_objection(users["bureau_a"], objection, upheld=False, reason="x")
    with pytest.raises(ValidationFailed):
        services.decide_objection(users["coordinator"], objection, upheld=True, reason="x",
                                  corrections={"no_such_fact": "1"})
    with pytest.raises(ValidationFailed):
        services.decide_objection(users["coordinator"], objection, upheld=True, reason="x",
                                  corrections={"received_value": "NaN"})


def test_published_page_shows_ranks_and_totals_without_login(evaluated, client):
    evaluation = freeze(evaluated)
    assert client.get("/evaluation/").status_code == 200  # nothing published yet: a page that says so
    with pytest.raises(PermissionDenied):
        services.publish(evaluated["users"]["bureau_a"], evaluation)
    services.publish(evaluated["users"]["coordinator"], evaluation)
    page = client.get("/evaluation/").content.decode()
    assert "上海市" in page and "杭州市" in page
    totals = selectors.totals(evaluation)
    assert f"{totals['savings']:,.2f}" in page
    for private in ("staff_b", "bureau_a", "测试台式机", evaluated["agency_a"].name_zh):
        assert private not in page


def test_evaluator_reads_the_granted_cycle_only_while_the_grant_lasts(evaluated, client):
    evaluation = freeze(evaluated)
    evaluator = f.UserFactory(username="evaluator")
    url = f"/evaluation/{evaluation.pk}/facts.csv"
    client.force_login(evaluator)
    assert client.get(url).status_code == 404
    with pytest.raises(PermissionDenied):
        services.grant_evaluator(evaluated["users"]["bureau_a"], evaluator, evaluated["region"],
                                 *evaluated["period"], timezone.now() + timedelta(days=30), "第三方评估")
    grant = services.grant_evaluator(evaluated["users"]["coordinator"], evaluator, evaluated["region"],
                                     *evaluated["period"], timezone.now() + timedelta(days=30), "第三方评估")
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert b"indicator_set_version" in response.content
    type(grant).objects.filter(pk=grant.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    services.grant_evaluator(evaluated["users"]["coordinator"], evaluator, evaluated["region"],
                             *evaluated["period"], timezone.now() + timedelta(days=30), "第二轮评估")
    assert client.get(url).status_code == 200
    assert services.revoke_evaluator(evaluated["users"]["coordinator"], evaluator, evaluated["region"],
                                     *evaluated["period"], "评估结束") == 1
    assert client.get(url).status_code == 404
    assert AuditEvent.objects.filter(action="evaluation.evaluator.revoke").count() == 1
    with pytest.raises(NotFound), transaction.atomic():  # nothing left to revoke
        services.revoke_evaluator(evaluated["users"]["coordinator"], evaluator, evaluated["region"],
                                  *evaluated["period"], "again")
    client.logout()
    assert client.get(url).status_code in (302, 401, 404)


def test_league_page_and_pdf_for_region_users(evaluated, client):
    evaluation = freeze(evaluated)
    client.force_login(evaluated["users"]["staff_b"])
    page = client.get("/evaluation/league/").content.decode()
    assert "league-chart" in page and "杭州市" in page and f"/evaluation/{evaluation.pk}/report.pdf" in page
    response = client.get(f"/evaluation/{evaluation.pk}/report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    client.force_login(evaluated["users"]["outsider"])
    assert client.get(f"/evaluation/{evaluation.pk}/report.pdf").status_code == 404
    assert "league-chart" not in client.get("/evaluation/league/").content.decode()


def test_graphql_evaluations_for_region_users_only(evaluated, gql):
    evaluation = freeze(evaluated)
    result = gql.login(evaluated["users"]["staff_b"]).operation("Evaluations", {"first": 5})
    node = result["data"]["evaluations"]["edges"][0]["node"]
    assert node["version"] == 1 and node["cycle"] == "QUARTER" and node["indicatorSet"]["indicators"]
    league = {row["jurisdictionCode"]: row for row in node["league"]}
    stored = by_code(evaluation, "330100")
    assert league["330100"]["rank"] == stored.rank and D(league["330100"]["weightedScore"]) == stored.weighted_score
    assert gql.login(evaluated["users"]["outsider"]).operation("Evaluations")["data"]["evaluations"]["edges"] == []
    gql.client.logout()
    gql.headers = {}
    anonymous = gql.operation("Evaluations")
    assert not (anonymous.get("data") or {}).get("evaluations")


def test_workbench_objection_decision_and_publication(evaluated, client):
    evaluation = freeze(evaluated)
    users = evaluated["users"]
    client.force_login(users["bureau_b"])
    page = client.get(f"/evaluation/league/{evaluation.pk}/").content.decode()
    assert 'id="objection-form"' in page and "publish-form" not in page
    response = client.post(f"/evaluation/{evaluation.pk}/objections/", {"jurisdiction": "330100", "reason": ""})
    assert response.status_code == 200 and 'id="errors-reason"' in response.content.decode()
    response = client.post(f"/evaluation/{evaluation.pk}/objections/",
                           {"jurisdiction": "330100", "reason": "另有 2 台已接收"})
    assert response.status_code == 302
    objection = evaluation.objections.get()
    client.force_login(users["coordinator"])
    bad = client.post(f"/evaluation/objections/{objection.pk}/decide/",
                      {f"o{objection.pk}-upheld": "on", f"o{objection.pk}-reason": "属实",
                       f"o{objection.pk}-corrections": "received_value: 16000"})
    assert bad.status_code == 200 and "事实代码 = 数值" in bad.content.decode()  # zh-Hans by default
    response = client.post(f"/evaluation/objections/{objection.pk}/decide/",
                           {f"o{objection.pk}-upheld": "on", f"o{objection.pk}-reason": "属实",
                            f"o{objection.pk}-corrections": "received_value = 16000"})
    correction = Evaluation.objects.get(version=2)
    assert response.status_code == 302 and response["Location"].endswith(f"/evaluation/league/{correction.pk}/")
    assert client.post(f"/evaluation/{evaluation.pk}/publish/").status_code == 302  # v1 is superseded: refused
    assert not hasattr(Evaluation.objects.get(pk=evaluation.pk), "publication")
    client.post(f"/evaluation/{correction.pk}/publish/")
    client.logout()
    assert "第 2 版" in client.get("/evaluation/").content.decode()
    assert selectors.published_summary().pk == correction.pk
