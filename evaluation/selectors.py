"""Reads of the performance evaluation. Evaluations are region data: every principal of the region reads
them (coordinator, auditor, bureaus and agencies of member jurisdictions), and an external evaluator
reads the cycles its unexpired grant covers. Published summaries are public (see `published_summary`)."""
from decimal import Decimal

from django.db.models import F

from kernel.errors import NotFound
from regions.permissions import restrict

from .models import Evaluation, EvaluationScore, IndicatorSet, Objection, Publication

NO_GEOMETRY = ("jurisdiction__boundary", "jurisdiction__boundary_simplified", "jurisdiction__centroid")


def evaluations_for(user):
    """The region's evaluations, and those an evaluator's grant covers (`Evaluation.extra_visibility`)."""
    return (restrict(Evaluation.objects.select_related("region", "indicator_set", "publication"), user)
            .order_by("-period_to", "-version"))


def evaluation_for(user, pk):
    found = evaluations_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(field="evaluation")
    return found


def indicator_sets_for(user):
    return restrict(IndicatorSet.objects.all(), user).prefetch_related("indicators")


def objections_for(user):
    return restrict(Objection.objects.select_related("evaluation", "jurisdiction"), user)


def league_table(evaluation):
    """The evaluation's scores in rank order, with each unit's jurisdiction (no geometry)."""
    return list(EvaluationScore.objects.filter(evaluation=evaluation).select_related("jurisdiction")
                .defer(*NO_GEOMETRY).order_by(F("rank").asc(nulls_last=True), "jurisdiction__code"))


def latest_versions(queryset):
    """Of each cycle, the highest version only."""
    latest = {}
    for evaluation in queryset.order_by("period_from", "version"):
        latest[(evaluation.region_id, evaluation.period_from, evaluation.period_to)] = evaluation
    return sorted(latest.values(), key=lambda e: e.period_from)


def trend(evaluations):
    """[(evaluation, {jurisdiction code: weighted score}, region median)] over cycles, oldest first."""
    scores = {}
    for s in (EvaluationScore.objects.filter(evaluation__in=evaluations).select_related("jurisdiction")
              .defer(*NO_GEOMETRY)):
        scores.setdefault(s.evaluation_id, {})[s.jurisdiction.code] = s.weighted_score
    rows = []
    for evaluation in evaluations:
        by_unit = scores.get(evaluation.pk, {})
        rows.append((evaluation, by_unit, median([v for v in by_unit.values() if v is not None])))
    return rows


def median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def totals(evaluation):
    """Region totals of a frozen evaluation, from its facts: savings, reuse rate, value received."""
    sums = {}
    for fact in evaluation.facts.all().only("code", "value"):
        if fact.value is not None:
            sums[fact.code] = sums.get(fact.code, Decimal(0)) + fact.value
    get = lambda code: sums.get(code, Decimal(0))  # noqa: E731
    listed = get("listed_value")
    return {
        "savings": (get("avoided_purchase") - get("compensation_paid")).quantize(Decimal("0.01")),
        "received_value": get("received_value").quantize(Decimal("0.01")),
        "reuse_rate": (get("reused_value") / listed).quantize(Decimal("0.0001")) if listed else None,
        "transfers_completed": int(get("transfers_completed")),
        "co2_avoided_kg": get("co2_avoided_kg").quantize(Decimal("0.1")) if "co2_avoided_kg" in sums else None,
    }


def published_summary(region_code=None):
    """The latest published evaluation (of one region, or of any): no login, aggregates only."""
    publications = Publication.objects.select_related("evaluation__region", "evaluation__indicator_set")
    if region_code:
        publications = publications.filter(evaluation__region__code=region_code)
    publication = publications.order_by("-evaluation__period_to", "-evaluation__version").first()
    return None if publication is None else publication.evaluation
