"""Regions, jurisdictions (GB/T 2260), agencies, identity (role bindings, API tokens) and standards."""
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.gis.db import models
from django.core.validators import MinValueValidator, RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel import deadlines
from regions.scope import Scope

division_code = RegexValidator(r"^\d{6}$", _("GB/T 2260 division code: 6 digits"))


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    two_factor_required = models.BooleanField(
        _("two-factor sign-in required"), default=True,
        help_text=_("coordinators, and anyone who may close a settlement period, confirm a one-time code (TOTP)"))

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.name_zh


class Jurisdiction(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        CITY = "city", _("city")
        COUNTY = "county", _("county/district")

    code = models.CharField(_("division code"), max_length=6, unique=True, validators=[division_code])
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    boundary_simplified = models.MultiPolygonField(_("simplified boundary"), srid=4326, null=True,
                                                   blank=True)
    centroid = models.PointField(_("representative point"), srid=4326, null=True, blank=True)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name_zh} ({self.code})"


class Membership(models.Model):
    """A jurisdiction's membership of a region over a period; a jurisdiction may join several. The predicate
    (`regions.membership.in_force`) is used by permissions, posting, reports and settlement."""

    region = models.ForeignKey(Region, models.CASCADE, related_name="memberships",
                               verbose_name=_("region"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.CASCADE, related_name="memberships",
                                     verbose_name=_("jurisdiction"))
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["region", "jurisdiction", "joined_on"], name="membership_once"),
            models.CheckConstraint(condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                                   name="membership_dates_ordered"),
        ]

    def __str__(self):
        return f"{self.jurisdiction} ∈ {self.region}"


class SettlingLevel(models.Model):
    """Which level of jurisdiction settles compensation in a region (区域利益补偿机制), from a date.
    The level in force on D is the row with the latest `effective_from` on or before D; postings made
    under an earlier level keep the accounts they were posted to."""

    region = models.ForeignKey(Region, models.CASCADE, related_name="settling_levels", verbose_name=_("region"))
    level = models.CharField(_("settling level"), max_length=10, choices=Jurisdiction.Level.choices)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        verbose_name = _("settling level")
        verbose_name_plural = _("settling levels")
        ordering = ["region", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["region", "effective_from"], name="one_settling_level_per_day")]

    def __str__(self):
        return f"{self.region} · {self.get_level_display()} · {self.effective_from}"


class Rank(models.TextChoices):
    """Post ranks used by the office-space standard (党政机关办公用房建设标准)."""

    MINISTER = "minister", _("minister")
    VICE_MINISTER = "vice_minister", _("vice-minister")
    HEAD = "head", _("head")
    DEPUTY = "deputy", _("deputy")
    BUREAU_HEAD = "bureau_head", _("bureau head")
    DEPUTY_BUREAU_HEAD = "deputy_bureau_head", _("deputy bureau head")
    DIVISION_HEAD = "division_head", _("division head")
    DEPUTY_DIVISION_HEAD = "deputy_division_head", _("deputy division head")
    SECTION_HEAD = "section_head", _("section head")
    STAFF = "staff", _("staff")


class Agency(models.Model):
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="agencies",
                                     verbose_name=_("jurisdiction"))
    code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    is_affairs_bureau = models.BooleanField(_("affairs bureau"), default=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    location = models.PointField(_("address point"), srid=4326)

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id", "agency": "id"}

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["jurisdiction__code", "code"]

    def __str__(self):
        return self.name_zh

    def permission_scope(self):
        return Scope(jurisdiction_id=self.jurisdiction_id, agency_id=self.pk)

    @property
    def total_headcount(self):
        return sum(h.count for h in self.headcounts.all())


class Headcount(models.Model):
    agency = models.ForeignKey(Agency, models.CASCADE, related_name="headcounts", verbose_name=_("agency"))
    rank = models.CharField(_("rank"), max_length=24, choices=Rank.choices)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("headcount")
        verbose_name_plural = _("headcounts")
        constraints = [models.UniqueConstraint(fields=["agency", "rank"], name="headcount_rank_once")]


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("regional coordinator")
    BUREAU_MANAGER = "bureau_manager", _("bureau manager")
    DEPUTY_BUREAU_MANAGER = "deputy_bureau_manager", _("deputy bureau manager")
    AGENCY_STAFF = "agency_staff", _("agency staff")
    AUDITOR = "auditor", _("auditor")


ROLE_SCOPE_MATCHES = (
    Q(role__in=["coordinator", "auditor"], region__isnull=False, jurisdiction__isnull=True, agency__isnull=True)
    | Q(role__in=["bureau_manager", "deputy_bureau_manager"], region__isnull=True, jurisdiction__isnull=False,
        agency__isnull=True)
    | Q(role="agency_staff", region__isnull=True, jurisdiction__isnull=True, agency__isnull=False)
)


class RoleBindingQuerySet(models.QuerySet):
    def active(self, on=None):
        """Bindings in force on `on` (today): not revoked, not past their end date. A role with an end
        date lapses by itself at the end of that day."""
        on = on or timezone.localdate()
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on), revoked_at__isnull=True)


class RoleBinding(models.Model):
    """One role on one scope: region (coordinator, auditor), jurisdiction (bureau manager and deputy),
    agency (staff). Granted by someone with a reason, optionally until an end date; revoked, never deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="role_bindings",
                             verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(Region, models.CASCADE, null=True, blank=True, verbose_name=_("region"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.CASCADE, null=True, blank=True,
                                     verbose_name=_("jurisdiction"))
    agency = models.ForeignKey(Agency, models.CASCADE, null=True, blank=True, verbose_name=_("agency"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("granted by"))
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True, null=True)
    reason = models.TextField(_("reason"), blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True,
                               help_text=_("the last day the role is held; empty for no end date"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("revoked by"))
    revoke_reason = models.TextField(_("revocation reason"), blank=True)

    objects = RoleBindingQuerySet.as_manager()

    SCOPE_LOOKUPS = {"region": "region_id", "jurisdiction": ["jurisdiction_id", "agency__jurisdiction_id"],
                     "agency": "agency_id"}

    class Meta:
        verbose_name = _("role binding")
        verbose_name_plural = _("role bindings")
        constraints = [
            models.CheckConstraint(name="role_binding_scope_matches_role", condition=ROLE_SCOPE_MATCHES),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.scope_object}"

    @classmethod
    def extra_visibility(cls, principal):
        return Q(user_id=principal.user_id)  # everyone sees their own roles

    @property
    def scope_object(self):
        return self.region or self.jurisdiction or self.agency

    def permission_scope(self):
        if self.agency_id:
            return Scope(jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)
        return Scope(region_id=self.region_id, jurisdiction_id=self.jurisdiction_id)


class AccessRequest(models.Model):
    """A person's request for a role on a scope (向高级管理员申请使用权限), decided by someone who may grant it
    there, within a working-day time limit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        GRANTED = "granted", _("granted")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="access_requests",
                                  verbose_name=_("requester"))
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(Region, models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("region"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.CASCADE, null=True, blank=True, related_name="+",
                                     verbose_name=_("jurisdiction"))
    agency = models.ForeignKey(Agency, models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("agency"))
    reason = models.TextField(_("reason"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    yellow_at = models.DateTimeField(_("yellow light from"))
    due_at = models.DateTimeField(_("due at"), db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    binding = models.ForeignKey(RoleBinding, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("role granted"))
    duties = GenericRelation("Duty", content_type_field="subject_type", object_id_field="subject_id")

    SCOPE_LOOKUPS = RoleBinding.SCOPE_LOOKUPS

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(name="access_request_scope_matches_role", condition=ROLE_SCOPE_MATCHES),
            models.CheckConstraint(name="access_request_times_ordered",
                                   condition=Q(yellow_at__gte=models.F("created_at"),
                                               due_at__gte=models.F("yellow_at"))),
        ]

    def __str__(self):
        return f"{self.requester} → {self.get_role_display()} · {self.scope_object}"

    @classmethod
    def extra_visibility(cls, principal):
        return Q(requester_id=principal.user_id)

    scope_object = RoleBinding.scope_object
    permission_scope = RoleBinding.permission_scope

    @property
    def light(self):
        if self.status != self.Status.PENDING:
            return None
        return getattr(self, "light_now", None) or deadlines.light(self.yellow_at, self.due_at)


class ApiToken(models.Model):
    """A member city's system credential: shown once, stored as SHA-256, scoped to one jurisdiction."""

    jurisdiction = models.ForeignKey(Jurisdiction, models.CASCADE, related_name="api_tokens",
                                     verbose_name=_("jurisdiction"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    can_write = models.BooleanField(_("write scope"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspended_by = models.ForeignKey("EmergencyStop", models.PROTECT, null=True, blank=True, related_name="tokens",
                                     verbose_name=_("suspended by emergency stop"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    SCOPE_LOOKUPS = {}  # only the jurisdiction's bureau managers, not region-wide roles

    @staticmethod
    def extra_visibility(principal):
        return Q(jurisdiction_id__in=principal.bureau_jurisdictions)

    def permission_scope(self):
        return Scope(jurisdiction_id=self.jurisdiction_id)

    @property
    def scopes(self):
        return ["read", "write"] if self.can_write else ["read"]


# --- Standards registry ----------------------------------------------------------------------------
class AllocationMode(models.TextChoices):
    FIRST_COME = "first_come", _("first come")
    WINDOW_CLOSE = "window_close", _("at window close")
    OPTIMIZED = "optimized", _("optimized at window close")


class StandardSet(models.Model):
    """One effective-dated version of a region's standards; the set in force on D is the latest
    with effective_from <= D. Sets already in force are never edited: a change is a new version."""

    region = models.ForeignKey(Region, models.CASCADE, related_name="standard_sets", verbose_name=_("region"))
    effective_from = models.DateField(_("effective from"))
    title = models.CharField(_("title"), max_length=200)
    source = models.CharField(_("source document"), max_length=300, blank=True)
    own_window_days = models.PositiveIntegerField(_("own-jurisdiction screening window (days)"), default=7)
    region_window_days = models.PositiveIntegerField(_("regional screening window (days)"), default=14)
    approval_working_days = models.PositiveIntegerField(_("approval step deadline (working days)"), default=5)
    allocation_working_days = models.PositiveIntegerField(
        _("allocation deadline after the screening window (working days)"), default=3)
    handover_working_days = models.PositiveIntegerField(_("handover deadline (working days)"), default=10)
    payment_working_days = models.PositiveIntegerField(_("settlement payment deadline (working days)"),
                                                       default=15)
    access_request_working_days = models.PositiveIntegerField(_("access request deadline (working days)"),
                                                              default=3)
    coordinator_threshold = models.DecimalField(_("coordinator approval above value (CNY)"), max_digits=14,
                                                decimal_places=2, default=Decimal("50000.00"))
    allocation_mode = models.CharField(_("allocation mode"), max_length=16, choices=AllocationMode.choices,
                                       default=AllocationMode.FIRST_COME)
    handling_fee = models.DecimalField(_("handling fee per transfer (CNY)"), max_digits=10, decimal_places=2,
                                       default=Decimal("200.00"))
    transport_rate_per_km = models.DecimalField(_("transport rate (CNY/km)"), max_digits=8, decimal_places=2,
                                                default=Decimal("3.00"))
    salvage_floor = models.DecimalField(_("salvage floor (share of original value)"), max_digits=4,
                                        decimal_places=3, default=Decimal("0.050"))
    purchase_search_radius_km = models.DecimalField(
        _("purchase check: warehouse search radius (km)"), max_digits=7, decimal_places=1, default=Decimal("300.0"),
        help_text=_("Before a purchase, idle items this close to the agency are offered instead "
                    "(reallocate before buying)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("standard set")
        verbose_name_plural = _("standard sets")
        ordering = ["region", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["region", "effective_from"], name="one_set_per_day")]

    def __str__(self):
        return f"{self.region} · {self.title} · {self.effective_from}"

    SCOPE_LOOKUPS = {"region": "region_id"}

    def permission_scope(self):
        return Scope(region_id=self.region_id)

    def is_editable(self, on=None):
        """Only a version not yet in force on `on` (default today) may be changed; one in force or past is
        replaced by a new version."""
        return self.effective_from > (on or timezone.localdate())


class OfficeSpaceNorm(models.Model):
    standard_set = models.ForeignKey(StandardSet, models.CASCADE, related_name="office_norms")
    level = models.CharField(_("jurisdiction level"), max_length=10, choices=[
        ("central", _("central")), *Jurisdiction.Level.choices])
    rank = models.CharField(_("rank"), max_length=24, choices=Rank.choices)
    area_m2 = models.DecimalField(_("office room area per person (m²)"), max_digits=6, decimal_places=1,
                                  validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        verbose_name = _("office space norm")
        verbose_name_plural = _("office space norms")
        constraints = [models.UniqueConstraint(fields=["standard_set", "level", "rank"], name="office_norm_once")]


class AssetClassNorm(models.Model):
    standard_set = models.ForeignKey(StandardSet, models.CASCADE, related_name="class_norms")
    class_code = models.CharField(_("asset class code (GB/T 14885)"), max_length=16)
    min_service_years = models.DecimalField(_("minimum service life (years)"), max_digits=4, decimal_places=1)
    price_cap = models.DecimalField(_("price cap per item (CNY)"), max_digits=14, decimal_places=2,
                                    null=True, blank=True)
    quantity_per_head = models.DecimalField(_("quantity cap per head"), max_digits=6, decimal_places=2,
                                            null=True, blank=True)
    compensation_rate = models.DecimalField(_("compensation rate (share of residual value)"), max_digits=4,
                                            decimal_places=3, default=Decimal("1.000"))
    loan_fee_per_day = models.DecimalField(_("loan fee per unit and day (CNY)"), max_digits=10, decimal_places=2,
                                           null=True, blank=True, help_text=_("empty: lent free of charge"))

    class Meta:
        verbose_name = _("asset class norm")
        verbose_name_plural = _("asset class norms")
        constraints = [models.UniqueConstraint(fields=["standard_set", "class_code"], name="class_norm_once")]


class RentNorm(models.Model):
    """Monthly rent-equivalent per m² of a jurisdiction's office space (office-space compensation)."""

    standard_set = models.ForeignKey(StandardSet, models.CASCADE, related_name="rent_norms")
    jurisdiction = models.ForeignKey(Jurisdiction, models.CASCADE, related_name="+")
    rent_per_m2_month = models.DecimalField(_("rent-equivalent (CNY/m²/month)"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("rent norm")
        verbose_name_plural = _("rent norms")
        constraints = [models.UniqueConstraint(fields=["standard_set", "jurisdiction"], name="rent_norm_once")]


class IdempotencyKey(models.Model):
    """The first result of a create-mutation sent with a client idempotency key, per caller: a retry with
    the same key returns this result and changes nothing."""

    owner = models.CharField(_("caller"), max_length=80)  # "token:<id>" or "user:<id>"
    key = models.CharField(_("idempotency key"), max_length=64)
    operation = models.CharField(_("operation"), max_length=80)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField(_("response"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["owner", "operation", "key"], name="idempotency_once")]


class EmergencyStop(models.Model):
    """A jurisdiction's access suspended at once (应急预案…及时止损): its people's sessions ended, its API tokens
    suspended, its webhooks paused, until the stop is lifted (which restores the tokens that have not expired)."""

    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="emergency_stops",
                                     verbose_name=_("jurisdiction"))
    reason = models.TextField(_("reason"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name=_("stopped by"))
    started_at = models.DateTimeField(_("stopped at"))
    sessions_ended = models.PositiveIntegerField(_("sessions ended"), default=0)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("lifted by"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id"}

    class Meta:
        verbose_name = _("emergency stop")
        verbose_name_plural = _("emergency stops")
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["jurisdiction"], condition=Q(lifted_at__isnull=True),
                                               name="one_open_stop_per_jurisdiction")]

    def __str__(self):
        return f"{self.jurisdiction} · {self.started_at:%Y-%m-%d %H:%M:%S}"

    def permission_scope(self):
        return Scope(jurisdiction_id=self.jurisdiction_id)


class Duty(models.Model):
    """The responsible person and the working-day time limit of one stage of a matter (明确责任人…设定每个节点的
    完成时限; 首接负责制): a request pending allocation, an approval step, a handover, a settlement payment, an
    access request. The stage's authority claims it, or the bureau (the coordinator) assigns it; past its
    deadline it escalates once to the region's coordinators."""

    class Stage(models.TextChoices):
        ALLOCATION = "allocation", _("pending allocation")
        APPROVAL = "approval", _("approval")
        HANDOVER = "handover", _("handover")
        PAYMENT = "payment", _("settlement payment")
        ACCESS = "access", _("access request")

    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    subject_type = models.ForeignKey("contenttypes.ContentType", models.PROTECT, related_name="+")
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    action = models.CharField(_("authority"), max_length=24,
                              help_text=_("the permission that decides the stage; who holds it here may claim it"))
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("region"),
                               help_text=_("whose coordinators an overdue stage escalates to"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("jurisdiction"))
    agency = models.ForeignKey(Agency, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("agency"))
    opened_at = models.DateTimeField(_("opened at"))
    yellow_at = models.DateTimeField(_("yellow light from"))
    due_at = models.DateTimeField(_("due at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="duties", verbose_name=_("responsible person"))
    responsible_since = models.DateTimeField(_("responsible since"), null=True, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("assigned by"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id", "agency": "agency_id"}

    @classmethod
    def extra_visibility(cls, principal):
        """The region's coordinators and auditors see its duties; everyone sees those they are responsible for."""
        return Q(region_id__in=principal.coordinator_regions | principal.auditor_regions) | Q(
            responsible_id=principal.user_id)

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="duty_subject")]
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "stage"], name="one_duty_per_stage"),
            models.CheckConstraint(name="duty_times_ordered", condition=Q(
                yellow_at__gte=models.F("opened_at"), due_at__gte=models.F("yellow_at"))),
            models.CheckConstraint(name="duty_responsible_has_since", condition=Q(
                responsible__isnull=True) | Q(responsible_since__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_stage_display()} · {self.subject_type.model} #{self.subject_id}"

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.jurisdiction_id, agency_id=self.agency_id)

    @property
    def is_open(self):
        return self.closed_at is None

    @property
    def light(self):
        if self.closed_at is not None:
            return None
        return getattr(self, "light_now", None) or deadlines.light(self.yellow_at, self.due_at)


class ExternalIdentity(models.Model):
    """One official's identity at the unified identity service (统一身份认证): the provider's subject maps to
    exactly one local person. Signing in through the provider opens only the roles granted here."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="external_identity",
                                verbose_name=_("person"))
    issuer = models.CharField(_("issuer"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_person_per_subject")]

    def __str__(self):
        return f"{self.issuer} · {self.subject} → {self.user}"
