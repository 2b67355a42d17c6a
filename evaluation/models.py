"""Performance evaluation (绩效评估): indicator sets as effective-dated region data, frozen evaluations
with their facts and scores, objections, publication and external evaluators.

A frozen evaluation never changes: its facts and scores are append-only in the database, and a
correction after an upheld objection is a new version of the same cycle, never an edit.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regions.models import Jurisdiction, Region


class Cycle(models.TextChoices):
    QUARTER = "quarter", _("quarter")
    YEAR = "year", _("year")


class IndicatorSet(models.Model):
    """One version of a region's indicator system (考核指标体系). The set in force on D is the latest
    with effective_from <= D; a set already in force is never edited (a change is a new version)."""

    region = models.ForeignKey(Region, models.CASCADE, related_name="indicator_sets", verbose_name=_("region"))
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    title = models.CharField(_("title"), max_length=200)
    source = models.CharField(_("source document"), max_length=300, blank=True)
    cycle = models.CharField(_("evaluation cycle"), max_length=8, choices=Cycle.choices, default=Cycle.QUARTER)
    unit_level = models.CharField(_("level of evaluated units"), max_length=10, choices=Jurisdiction.Level.choices,
                                  default=Jurisdiction.Level.CITY)
    objection_working_days = models.PositiveSmallIntegerField(_("objection period (working days)"), default=5)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"region": "region_id"}

    class Meta:
        verbose_name = _("indicator set")
        verbose_name_plural = _("indicator sets")
        ordering = ["region", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "version"], name="indicator_set_version_once"),
            models.UniqueConstraint(fields=["region", "effective_from"], name="indicator_set_one_per_day"),
        ]

    def __str__(self):
        return f"{self.region} · v{self.version} · {self.effective_from}"


class Indicator(models.Model):
    class Direction(models.TextChoices):
        HIGHER = "higher", _("higher is better")
        LOWER = "lower", _("lower is better")

    indicator_set = models.ForeignKey(IndicatorSet, models.CASCADE, related_name="indicators",
                                      verbose_name=_("indicator set"))
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    definition_zh = models.TextField(_("definition (Chinese)"))
    definition_en = models.TextField(_("definition (English)"))
    formula = models.CharField(_("formula"), max_length=300)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=4, null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["indicator_set", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["indicator_set", "code"], name="indicator_code_once"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.name_zh}"


class Evaluation(models.Model):
    """One frozen evaluation of a region's cycle (version 1, then one per upheld objection)."""

    region = models.ForeignKey(Region, models.PROTECT, related_name="evaluations", verbose_name=_("region"))
    indicator_set = models.ForeignKey(IndicatorSet, models.PROTECT, related_name="evaluations",
                                      verbose_name=_("indicator set"))
    cycle = models.CharField(_("evaluation cycle"), max_length=8, choices=Cycle.choices)
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    version = models.PositiveIntegerField(_("version"), default=1)
    supersedes = models.OneToOneField("self", models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("supersedes"))
    frozen_at = models.DateTimeField(_("frozen at"), default=timezone.now)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("frozen by"))
    objection_due_at = models.DateTimeField(_("objections due by"))
    audit_head_hash = models.CharField(_("audit chain head hash"), max_length=64, blank=True)
    audit_event_count = models.PositiveIntegerField(_("audit events"), default=0)
    note = models.TextField(_("note"), blank=True)

    SCOPE_LOOKUPS = {"region": "region_id"}

    class Meta:
        verbose_name = _("performance evaluation")
        verbose_name_plural = _("performance evaluations")
        ordering = ["-period_to", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["region", "period_from", "period_to", "version"],
                                    name="evaluation_version_once"),
            models.CheckConstraint(condition=Q(period_to__gte=F("period_from")), name="evaluation_period_ordered"),
        ]

    def __str__(self):
        return f"{self.region} {self.period_from}–{self.period_to} v{self.version}"

    @staticmethod
    def extra_visibility(principal):
        """An external evaluator reads the cycles its unexpired grant covers."""
        if principal.token is not None or principal.user_id is None:
            return Q(pk__in=[])
        grants = EvaluatorGrant.objects.filter(
            user_id=principal.user_id, revoked_at__isnull=True, valid_until__gt=timezone.now(),
            region_id=models.OuterRef("region_id"), period_from__lte=models.OuterRef("period_from"),
            period_to__gte=models.OuterRef("period_to"))
        return Q(models.Exists(grants))


class EvaluationFact(models.Model):
    """One fact of the fact database (事实数据库) for one evaluated unit: append-only."""

    evaluation = models.ForeignKey(Evaluation, models.PROTECT, related_name="facts", verbose_name=_("evaluation"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="+", verbose_name=_("evaluated unit"))
    code = models.SlugField(_("fact code"), max_length=40)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True)

    class Meta:
        verbose_name = _("evaluation fact")
        verbose_name_plural = _("evaluation facts")
        ordering = ["evaluation", "jurisdiction__code", "code"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "jurisdiction", "code"], name="fact_once")]

    def __str__(self):
        return f"{self.jurisdiction_id}:{self.code}={self.value}"



class EvaluationScore(models.Model):
    """A unit's result in a frozen evaluation: per-indicator values and scores, weighted score, rank."""

    evaluation = models.ForeignKey(Evaluation, models.PROTECT, related_name="scores", verbose_name=_("evaluation"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="+", verbose_name=_("evaluated unit"))
    weighted_score = models.DecimalField(_("weighted score"), max_digits=6, decimal_places=2, null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    indicators = models.JSONField(_("indicators"))  # {code: {"value": str|None, "score": str|None}}

    class Meta:
        verbose_name = _("evaluation score")
        verbose_name_plural = _("evaluation scores")
        ordering = ["evaluation", "rank", "jurisdiction__code"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "jurisdiction"], name="score_once")]

    def __str__(self):
        return f"{self.jurisdiction_id}: {self.weighted_score} (#{self.rank})"



class Publication(models.Model):
    """The coordinator's publication (结果通报) of an evaluation version on the public page."""

    evaluation = models.OneToOneField(Evaluation, models.PROTECT, related_name="publication",
                                      verbose_name=_("evaluation"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name=_("published by"))

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["-published_at"]

    def __str__(self):
        return f"{self.evaluation} @ {self.published_at:%Y-%m-%d}"



class Objection(models.Model):
    """A unit's objection (异议) to a frozen evaluation, filed within the set's working days and
    decided by the coordinator; upheld with corrections, it produces a new evaluation version."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    evaluation = models.ForeignKey(Evaluation, models.PROTECT, related_name="objections", verbose_name=_("evaluation"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="+", verbose_name=_("objecting unit"))
    reason = models.TextField(_("reason"), max_length=2000)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                 verbose_name=_("filed by"))
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.TextField(_("reason for the decision"), blank=True, max_length=2000)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    corrections = models.JSONField(_("corrected facts"), default=dict, blank=True)  # {fact code: "value"}
    correction = models.OneToOneField(Evaluation, models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("corrected version"))

    # the objecting unit's bureau and the region's coordinators and auditors, not the other units
    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id"}

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-filed_at"]

    def __str__(self):
        return f"{self.evaluation} · {self.jurisdiction_id} · {self.decision}"



class EvaluatorGrant(models.Model):
    """Read-only, time-limited access of an external (third-party) evaluator to one cycle's facts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="evaluator_grants",
                             verbose_name=_("evaluator"))
    region = models.ForeignKey(Region, models.CASCADE, related_name="+", verbose_name=_("region"))
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    valid_until = models.DateTimeField(_("valid until"))
    reason = models.CharField(_("reason"), max_length=500)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name=_("granted by"))
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluator grant")
        verbose_name_plural = _("evaluator grants")
        ordering = ["-granted_at"]

    def __str__(self):
        return f"{self.user_id} · {self.region_id} {self.period_from}–{self.period_to}"
