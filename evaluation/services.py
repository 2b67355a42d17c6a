"""Writes of the performance evaluation: freezing a cycle, publication, objections and corrections,
external evaluators. Every write is audited and checked by the one permission layer."""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit
from kernel.errors import InvalidState, NotFound, ValidationFailed
from kernel.models import AuditEvent
from kernel.workdays import add_working_days
from regions.models import Jurisdiction, Region
from regions.permissions import require
from regions.scope import Scope

from . import facts as fact_db
from .models import (
    Cycle,
    Evaluation,
    EvaluationFact,
    EvaluationScore,
    EvaluatorGrant,
    IndicatorSet,
    Objection,
    Publication,
)
from .scoring import IndicatorSpec, score

REASON_MAX = 2000


def indicator_set_in_force(region, on):
    found = IndicatorSet.objects.filter(region=region, effective_from__lte=on).order_by("-effective_from").first()
    if found is None:
        raise NotFound(_("No indicator set of the region is in force on %(on)s.") % {"on": on}, field="on")
    return found


def cycle_period(cycle, on):
    """(first day, last day) of the quarter or year containing `on`."""
    if cycle == Cycle.YEAR:
        return date(on.year, 1, 1), date(on.year, 12, 31)
    first = date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    return first, first + relativedelta(months=3) - timedelta(days=1)


def last_ended_cycle(cycle, today):
    """The latest cycle that ended before `today`."""
    first, _last = cycle_period(cycle, today)
    return cycle_period(cycle, first - timedelta(days=1))


def specs(indicator_set):
    return [IndicatorSpec(code=i.code, formula=i.formula, higher_is_better=i.direction == "higher",
                          weight=i.weight) for i in indicator_set.indicators.all()]


FACT_PLACES = Decimal("0.000001")  # the precision a fact is stored and exported with


def _write(evaluation, facts_by_unit, indicator_set):
    """Store the facts as stored and exported (6 places), and the scores computed from exactly those."""
    facts_by_unit = {unit: {code: None if v is None else Decimal(v).quantize(FACT_PLACES, ROUND_HALF_UP)
                            for code, v in unit_facts.items()} for unit, unit_facts in facts_by_unit.items()}
    EvaluationFact.objects.bulk_create([
        EvaluationFact(evaluation=evaluation, jurisdiction=unit, code=code, value=value)
        for unit, unit_facts in facts_by_unit.items() for code, value in unit_facts.items()])
    units = {unit.code: unit for unit in facts_by_unit}
    results = score({u.code: f for u, f in facts_by_unit.items()}, specs(indicator_set))
    EvaluationScore.objects.bulk_create([
        EvaluationScore(evaluation=evaluation, jurisdiction=units[r.unit], weighted_score=r.weighted, rank=r.rank,
                        indicators={code: {"value": _text(r.values[code]), "score": _text(r.scores[code])}
                                    for code in r.values})
        for r in results])


def _text(value):
    return None if value is None else str(value)


def _audit_anchor():
    head = AuditEvent.objects.order_by("-id").only("hash").first()
    return (head.hash if head else audit.GENESIS), AuditEvent.objects.count()


def _objection_due(indicator_set, frozen_at):
    return add_working_days(frozen_at, indicator_set.objection_working_days)


@transaction.atomic
def freeze(region, period_from, period_to, *, user=None, now=None):
    """Freeze version 1 of the region's evaluation of a cycle (idempotent: an existing one is returned).
    `user` is None when the scheduler closes the cycle; `now` is the scheduler's clock."""
    if user is not None:
        require(user, "evaluation.freeze", Scope(region_id=region.pk))
    existing = Evaluation.objects.filter(region=region, period_from=period_from, period_to=period_to,
                                         version=1).first()
    if existing is not None:
        return existing
    indicator_set = indicator_set_in_force(region, period_to)
    now = now or timezone.now()
    if period_to >= timezone.localdate(now):
        raise InvalidState(_("A cycle can be evaluated only after it has ended."), field="period_to")
    head, count = _audit_anchor()
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                region=region, indicator_set=indicator_set, cycle=indicator_set.cycle, period_from=period_from,
                period_to=period_to, frozen_at=now, frozen_by=user, audit_head_hash=head, audit_event_count=count,
                objection_due_at=_objection_due(indicator_set, now))
    except IntegrityError:  # a concurrent run froze it first
        return Evaluation.objects.get(region=region, period_from=period_from, period_to=period_to, version=1)
    _write(evaluation, fact_db.collect(region, indicator_set.unit_level, period_from, period_to), indicator_set)
    audit.record(user, "evaluation.freeze", evaluation, region=region,
                 after={"period_from": period_from, "period_to": period_to, "version": 1,
                        "indicator_set": indicator_set.version, "audit_head": head, "audit_count": count})
    return evaluation


MAX_CATCH_UP = 8  # cycles a scheduler run freezes at most per region (after downtime, or a new set)


def close_due_cycles(now=None):
    """Freeze every region's ended cycles that have no evaluation yet, since its first indicator set
    took effect (the scheduler's task; idempotent)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    frozen = []
    for region in Region.objects.filter(indicator_sets__isnull=False).distinct():
        first = IndicatorSet.objects.filter(region=region).order_by("effective_from").first()
        cycles, on = [], today
        while len(cycles) < MAX_CATCH_UP:
            set_then = IndicatorSet.objects.filter(region=region, effective_from__lte=on).order_by(
                "-effective_from").first() or first
            period = last_ended_cycle(set_then.cycle, on)
            if period[1] < first.effective_from:
                break
            cycles.append(period)
            on = period[0]
        for period_from, period_to in reversed(cycles):
            frozen.append(freeze(region, period_from, period_to, now=now))
    return frozen


def latest_version(evaluation):
    return (Evaluation.objects.filter(region_id=evaluation.region_id, period_from=evaluation.period_from,
                                      period_to=evaluation.period_to).order_by("-version").first())


@transaction.atomic
def publish(user, evaluation):
    require(user, "evaluation.publish", Scope(region_id=evaluation.region_id))
    if latest_version(evaluation).pk != evaluation.pk:
        raise InvalidState(_("Only the latest version of an evaluation can be published."), field="evaluation")
    if Objection.objects.filter(evaluation=evaluation, decision=Objection.Decision.PENDING).exists():
        raise InvalidState(_("Decide the pending objections before publishing."), field="evaluation")
    publication, created = Publication.objects.get_or_create(evaluation=evaluation,
                                                             defaults={"published_by": user})
    if created:
        audit.record(user, "evaluation.publish", evaluation, region=evaluation.region,
                     after={"version": evaluation.version})
    return publication


def _reason(reason, field="reason"):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), field=field)
    if len(reason) > REASON_MAX:
        raise ValidationFailed(_("At most %(n)d characters.") % {"n": REASON_MAX}, field=field)
    return reason


@transaction.atomic
def file_objection(user, evaluation, jurisdiction, reason, *, now=None):
    """A unit's bureau objects to a frozen evaluation within the objection period."""
    require(user, "objection.file", Scope(jurisdiction_id=jurisdiction.pk))
    reason = _reason(reason)
    if not evaluation.scores.filter(jurisdiction=jurisdiction).exists():
        raise ValidationFailed(_("The jurisdiction is not an evaluated unit of this evaluation."),
                               field="jurisdiction")
    if latest_version(evaluation).pk != evaluation.pk:
        raise InvalidState(_("Object to the latest version of the evaluation."), field="evaluation")
    now = now or timezone.now()
    if now > evaluation.objection_due_at:
        raise InvalidState(_("The objection period ended on %(due)s.")
                           % {"due": timezone.localtime(evaluation.objection_due_at).strftime("%Y-%m-%d %H:%M")},
                           field="evaluation")
    objection = Objection.objects.create(evaluation=evaluation, jurisdiction=jurisdiction, reason=reason,
                                         filed_by=user, filed_at=now)
    audit.record(user, "evaluation.objection.file", objection, region=evaluation.region, jurisdiction=jurisdiction,
                 after={"evaluation": evaluation.pk, "reason": reason})
    return objection


def _corrections(corrections):
    clean = {}
    for code, value in (corrections or {}).items():
        if code not in fact_db.CODES:
            raise ValidationFailed(_("Unknown fact %(code)s.") % {"code": code}, field="corrections")
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            number = None
        if number is None or not number.is_finite() or abs(number) >= Decimal("1e17"):
            raise ValidationFailed(_("Fact %(code)s needs a finite number.") % {"code": code}, field="corrections")
        clean[code] = number.quantize(FACT_PLACES, ROUND_HALF_UP)
    return clean


@transaction.atomic
def decide_objection(user, objection, *, upheld, reason, corrections=None):
    """The coordinator decides an objection. Upheld, the corrected facts of the objecting unit make a new
    version of the evaluation (facts copied, scores recomputed); the frozen version is never edited."""
    objection = Objection.objects.select_for_update().select_related("evaluation__region").get(pk=objection.pk)
    evaluation = objection.evaluation
    require(user, "objection.decide", Scope(region_id=evaluation.region_id))
    if objection.decision != Objection.Decision.PENDING:
        raise InvalidState(_("This objection has already been decided."), field="objection")
    reason = _reason(reason)
    fixed = _corrections(corrections) if upheld else {}
    if upheld and not fixed:
        raise ValidationFailed(_("An upheld objection needs at least one corrected fact."), field="corrections")
    objection.decision = Objection.Decision.UPHELD if upheld else Objection.Decision.REJECTED
    objection.decision_reason, objection.decided_by, objection.decided_at = reason, user, timezone.now()
    objection.corrections = {k: str(v) for k, v in fixed.items()}
    if upheld:
        latest = latest_version(evaluation)
        facts_by_unit = facts_of(latest)
        unit = next(u for u in facts_by_unit if u.pk == objection.jurisdiction_id)
        facts_by_unit[unit].update(fixed)
        now = timezone.now()
        head, count = _audit_anchor()
        correction = Evaluation.objects.create(
            region=latest.region, indicator_set=latest.indicator_set, cycle=latest.cycle,
            period_from=latest.period_from, period_to=latest.period_to, version=latest.version + 1,
            supersedes=latest, frozen_at=now, frozen_by=user, audit_head_hash=head, audit_event_count=count,
            objection_due_at=_objection_due(latest.indicator_set, now),
            note=_("Correction after objection #%(id)d: %(reason)s") % {"id": objection.pk, "reason": reason})
        _write(correction, facts_by_unit, latest.indicator_set)
        objection.correction = correction
    objection.save()
    audit.record(user, "evaluation.objection.decide", objection, region=evaluation.region,
                 jurisdiction=objection.jurisdiction,
                 after={"decision": objection.decision, "reason": reason, "corrections": objection.corrections,
                        "correction": objection.correction_id})
    return objection


def facts_of(evaluation):
    """{unit jurisdiction: {fact code: Decimal | None}} as frozen in the evaluation."""
    units = {}
    for fact in evaluation.facts.select_related("jurisdiction").defer(
            "jurisdiction__boundary", "jurisdiction__boundary_simplified"):
        units.setdefault(fact.jurisdiction, {})[fact.code] = fact.value
    return units


@transaction.atomic
def grant_evaluator(user, grantee, region, period_from, period_to, valid_until, reason):
    require(user, "evaluator.grant", Scope(region_id=region.pk))
    reason = _reason(reason)
    if valid_until <= timezone.now():
        raise ValidationFailed(_("The grant must end in the future."), field="valid_until")
    if valid_until > timezone.now() + timedelta(days=366):
        raise ValidationFailed(_("An evaluator grant lasts at most one year."), field="valid_until")
    if period_to < period_from:
        raise ValidationFailed(_("The period ends before it starts."), field="period_to")
    grant = EvaluatorGrant.objects.create(user=grantee, region=region, period_from=period_from, period_to=period_to,
                                          valid_until=valid_until, reason=reason, granted_by=user)
    audit.record(user, "evaluation.evaluator.grant", grant, region=region,
                 after={"user": grantee.username, "period_from": period_from, "period_to": period_to,
                        "valid_until": valid_until, "reason": reason})
    return grant


@transaction.atomic
def revoke_evaluator(user, grantee, region, period_from, period_to, reason):
    """End at once the grantee's unexpired grants over exactly this period; returns how many ended."""
    require(user, "evaluator.grant", Scope(region_id=region.pk))
    reason = _reason(reason)
    now = timezone.now()
    grants = list(EvaluatorGrant.objects.select_for_update().filter(
        user=grantee, region=region, period_from=period_from, period_to=period_to, revoked_at__isnull=True,
        valid_until__gt=now))
    if not grants:
        raise NotFound(_("This person holds no evaluator grant over this period."), field="username")
    for grant in grants:
        grant.revoked_at = now
        grant.save(update_fields=["revoked_at"])
        audit.record(user, "evaluation.evaluator.revoke", grant, region=region,
                     after={"user": grantee.username, "period_from": period_from, "period_to": period_to,
                            "reason": reason})
    return len(grants)


def jurisdiction_by_code(code):
    found = Jurisdiction.objects.filter(code=code).first()
    if found is None:
        raise NotFound(_("No jurisdiction with code %(code)s.") % {"code": code}, field="jurisdiction")
    return found
