"""The lifecycle around transfers: disposal of what nobody claimed (处置)."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from exchange.models import Asset, AssetClass, Condition, Listing
from kernel import deadlines
from regions.models import Agency, Jurisdiction, Region
from regions.permissions import Scope

money = {"max_digits": 14, "decimal_places": 2}


class Disposal(models.Model):
    """The units of a listing left unclaimed when its regional window ended: the owning agency proposes a
    method, its bureau approves, the agency records the outcome (proceeds) and the units are `disposed`."""

    class Method(models.TextChoices):
        AUCTION = "auction", _("auction")
        SCRAP = "scrap", _("scrapping")
        DONATION = "donation", _("donation")

    class Status(models.TextChoices):
        AWAITING_PROPOSAL = "awaiting_proposal", pgettext_lazy("disposal status", "awaiting a proposal")
        PROPOSED = "proposed", pgettext_lazy("disposal status", "proposed")
        APPROVED = "approved", pgettext_lazy("disposal status", "approved")
        DISPOSED = "disposed", pgettext_lazy("disposal status", "disposed")

    listing = models.OneToOneField(Listing, models.PROTECT, related_name="disposal", verbose_name=_("listing"))
    asset = models.ForeignKey(Asset, models.PROTECT, related_name="disposals", verbose_name=_("asset"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("region"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="+", verbose_name=_("jurisdiction"))
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="disposals", verbose_name=_("owning agency"))
    quantity = models.PositiveIntegerField(_("quantity"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.AWAITING_PROPOSAL, db_index=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    damaged_beyond_repair = models.BooleanField(_("damaged beyond repair"), default=False)
    damage_note = models.TextField(_("damage assessment"), blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    proceeds = models.DecimalField(_("proceeds (CNY)"), **money, null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    disposed_at = models.DateTimeField(_("disposed at"), null=True, blank=True)
    disposed_asset = models.ForeignKey(Asset, models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("asset record of the disposed units"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id", "agency": "agency_id"}

    class Meta:
        verbose_name = _("disposal")
        verbose_name_plural = _("disposals")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="disposal_quantity_positive"),
            models.CheckConstraint(condition=Q(proceeds__isnull=True) | Q(proceeds__gte=Decimal("0")),
                                   name="disposal_proceeds_not_negative"),
            models.CheckConstraint(condition=~Q(status="disposed") | Q(proceeds__isnull=False, method__gt=""),
                                   name="disposal_disposed_has_outcome"),
        ]

    def __str__(self):
        return f"{self.asset} ×{self.quantity} · {self.get_status_display()}"

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.jurisdiction_id, agency_id=self.agency_id)


CONDITION_RANK = {Condition.NEW: 3, Condition.GOOD: 2, Condition.FAIR: 1, Condition.POOR: 0}


class Want(models.Model):
    """An agency's want list entry (as GSAXcess want lists / Warp It wish lists): what it needs, how good,
    how far, until when. A matching listing notifies the agency, nearest first."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("want status", "active")
        WITHDRAWN = "withdrawn", pgettext_lazy("want status", "withdrawn")

    agency = models.ForeignKey(Agency, models.PROTECT, related_name="wants", verbose_name=_("agency"))
    asset_class = models.ForeignKey(AssetClass, models.PROTECT, related_name="wants", verbose_name=_("asset class"))
    quantity = models.PositiveIntegerField(_("quantity"))
    min_condition = models.CharField(_("condition at least"), max_length=8, choices=Condition.choices,
                                     default=Condition.FAIR)
    within_km = models.DecimalField(_("within (km)"), max_digits=7, decimal_places=1, null=True, blank=True,
                                    help_text=_("empty: anywhere the agency may request"))
    until = models.DateField(_("wanted until"))
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE,
                              db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "agency__jurisdiction_id", "agency": "agency_id"}

    class Meta:
        verbose_name = _("want")
        verbose_name_plural = _("wants")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="want_quantity_positive"),
            models.CheckConstraint(condition=Q(within_km__isnull=True) | Q(within_km__gt=0),
                                   name="want_radius_positive"),
        ]

    def __str__(self):
        return f"{self.agency} · {self.asset_class} ×{self.quantity}"

    def permission_scope(self):
        return Scope(jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)


class PurchaseRequest(models.Model):
    """A purchase check (先调剂后购置) filed before an agency buys: the standard in force (price cap, quota per
    head), the minimum service life of the items it would replace, then the warehouse. Its answer and
    reasons are kept as checked, and printed as the document the agency attaches to its procurement file."""

    class Outcome(models.TextChoices):
        REFUSED = "refused", pgettext_lazy("purchase outcome", "refused by the standards")
        TAKE_INSTEAD = "take_instead", pgettext_lazy("purchase outcome", "take warehouse items instead")
        MAY_BUY = "may_buy", pgettext_lazy("purchase outcome", "may buy")
        EXCEPTION_GRANTED = "exception_granted", pgettext_lazy("purchase outcome", "exception granted: may buy")

    code = models.CharField(_("document number"), max_length=20, unique=True)
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="purchase_requests", verbose_name=_("agency"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("region"))
    asset_class = models.ForeignKey(AssetClass, models.PROTECT, related_name="+", verbose_name=_("asset class"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price (CNY)"), **money)
    reason = models.TextField(_("reason"))
    replaces = models.ManyToManyField(Asset, blank=True, related_name="+", verbose_name=_("items replaced"))
    damaged_beyond_repair = models.BooleanField(_("replaced items damaged beyond repair"), default=False)
    damage_note = models.TextField(_("damage assessment"), blank=True)
    standard_set = models.ForeignKey("regions.StandardSet", models.PROTECT, related_name="+",
                                     verbose_name=_("standard set applied"))
    checks = models.JSONField(_("checks"), default=list)
    matches = models.JSONField(_("warehouse matches"), default=list)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    exception_justification = models.TextField(_("exception justification"), blank=True)
    exception_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+")
    exception_at = models.DateTimeField(_("exception granted at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "agency__jurisdiction_id", "agency": "agency_id"}

    class Meta:
        verbose_name = _("purchase check")
        verbose_name_plural = _("purchase checks")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="purchase_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="purchase_price_not_negative"),
            models.CheckConstraint(condition=~Q(outcome="exception_granted") | Q(exception_at__isnull=False),
                                   name="purchase_exception_recorded"),
        ]

    def __str__(self):
        return f"{self.code} {self.agency} · {self.asset_class} ×{self.quantity}"

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)

    @property
    def total(self):
        return self.unit_price * self.quantity


class LoanOffer(models.Model):
    """An asset offered for loan (出借) instead of transfer: borrowers request it for a period; ownership
    never moves."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("loan offer status", "open")
        CLOSED = "closed", pgettext_lazy("loan offer status", "closed")

    asset = models.ForeignKey(Asset, models.PROTECT, related_name="loan_offers", verbose_name=_("asset"))
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="loan_offers", verbose_name=_("lending agency"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("region"))
    quantity = models.PositiveIntegerField(_("quantity"))
    max_days = models.PositiveIntegerField(_("longest loan (days)"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "agency__jurisdiction_id", "agency": "agency_id"}

    class Meta:
        verbose_name = _("loan offer")
        verbose_name_plural = _("loan offers")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1, max_days__gte=1),
                                              name="loan_offer_positive"),
                       models.UniqueConstraint(fields=["asset"], condition=Q(status="open"),
                                               name="one_open_loan_offer_per_asset")]

    def __str__(self):
        return f"{self.asset} ×{self.quantity} ≤{self.max_days}d"

    @classmethod
    def extra_visibility(cls, principal):
        """Open offers are visible to the whole region, like listings in the regional window."""
        return Q(status=cls.Status.OPEN, region_id__in=principal.regions)

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)


class Loan(models.Model):
    """One loan (借管还): requested for a period, approved in parallel by both bureaus within the standard's
    approval deadline in working days (lights as for a transfer's approval steps), handed out, due with
    lights (yellow after two thirds of the period, red when overdue), returned to the owner with its
    condition; the fee per unit and day of the standard is posted to the ledger."""

    class Status(models.TextChoices):
        REQUESTED = "requested", pgettext_lazy("loan status", "awaiting approval")
        APPROVED = "approved", pgettext_lazy("loan status", "approved, awaiting handout")
        REFUSED = "refused", pgettext_lazy("loan status", "refused")
        OUT = "out", pgettext_lazy("loan status", "on loan")
        RETURNED = "returned", pgettext_lazy("loan status", "returned")

    class Decision(models.TextChoices):
        PENDING = "pending", pgettext_lazy("loan decision", "pending")
        APPROVED = "approved", pgettext_lazy("loan decision", "approved")
        REFUSED = "refused", pgettext_lazy("loan decision", "refused")

    offer = models.ForeignKey(LoanOffer, models.PROTECT, related_name="loans", verbose_name=_("loan offer"))
    lender = models.ForeignKey(Agency, models.PROTECT, related_name="loans_out", verbose_name=_("lending agency"))
    borrower = models.ForeignKey(Agency, models.PROTECT, related_name="loans_in", verbose_name=_("borrowing agency"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("region"))
    quantity = models.PositiveIntegerField(_("quantity"))
    days = models.PositiveIntegerField(_("loan period (days)"))
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED,
                              db_index=True)
    lender_decision = models.CharField(_("lending bureau's decision"), max_length=8, choices=Decision.choices,
                                       default=Decision.PENDING)
    borrower_decision = models.CharField(_("borrowing bureau's decision"), max_length=8, choices=Decision.choices,
                                         default=Decision.PENDING)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    approval_yellow_at = models.DateTimeField(_("approval yellow light from"), null=True, blank=True)
    approval_due_at = models.DateTimeField(_("approval due by"), null=True, blank=True, db_index=True)
    last_approval_light = models.CharField(max_length=8, blank=True, default="")
    out_at = models.DateTimeField(_("handed out at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due back"), null=True, blank=True, db_index=True)
    yellow_at = models.DateTimeField(_("yellow light from"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_condition = models.CharField(_("condition returned"), max_length=8, choices=Condition.choices,
                                          blank=True)
    fee = models.DecimalField(_("loan fee (CNY)"), **money, null=True, blank=True)
    last_light = models.CharField(max_length=8, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": ["lender__jurisdiction_id", "borrower__jurisdiction_id"],
                     "agency": ["lender_id", "borrower_id"]}

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1, days__gte=1), name="loan_positive"),
            models.CheckConstraint(condition=~Q(lender=models.F("borrower")), name="loan_between_agencies"),
            models.CheckConstraint(condition=Q(fee__isnull=True) | Q(fee__gte=0), name="loan_fee_not_negative"),
            models.CheckConstraint(condition=~Q(status="out") | Q(out_at__isnull=False, due_at__isnull=False),
                                   name="loan_out_has_dates"),
            models.CheckConstraint(condition=Q(approval_due_at__isnull=True)
                                   | Q(approval_due_at__gte=models.F("approval_yellow_at")),
                                   name="loan_approval_times_ordered"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.lender} → {self.borrower} ×{self.quantity}"

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.borrower.jurisdiction_id,
                     agency_id=self.borrower_id)

    def light_at(self, when=None):
        """green / yellow (two thirds of the period used) / red (overdue) while on loan; None otherwise."""
        return deadlines.light(self.yellow_at, self.due_at, when) if self.status == self.Status.OUT else None

    def approval_light_at(self, when=None):
        """The light of the bureaus' decision while it is awaited (the transfer steps' rule); None otherwise."""
        if self.status != self.Status.REQUESTED:
            return None
        return deadlines.light(self.approval_yellow_at, self.approval_due_at, when)

    @property
    def light_now(self):
        """The light a person looks at: of the approval while awaited, of the due date while on loan."""
        return self.approval_light_at() or self.light_at()

    @classmethod
    def approval_light_expression(cls, when=None):
        return deadlines.light_expression(Q(status=cls.Status.REQUESTED), prefix="approval_", when=when)


class WebhookEndpoint(models.Model):
    """A member city's system that wants to hear of events of its jurisdiction: events are POSTed as JSON
    with an HMAC-SHA256 signature of the body under the endpoint's secret."""

    jurisdiction = models.ForeignKey(Jurisdiction, models.CASCADE, related_name="webhooks",
                                     verbose_name=_("jurisdiction"))
    url = models.URLField(_("URL"), max_length=300)
    secret = models.CharField(_("signing secret"), max_length=128)
    events = models.JSONField(_("events"), default=list, blank=True, help_text=_("empty: every event"))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id"}

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.jurisdiction} → {self.url}"

    def permission_scope(self):
        return Scope(jurisdiction_id=self.jurisdiction_id)


class WebhookDelivery(models.Model):
    """One event for one endpoint, with its attempts (the delivery log)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery status", "pending")
        DELIVERED = "delivered", pgettext_lazy("delivery status", "delivered")
        FAILED = "failed", pgettext_lazy("delivery status", "failed")

    endpoint = models.ForeignKey(WebhookEndpoint, models.CASCADE, related_name="deliveries",
                                 verbose_name=_("webhook"))
    event = models.CharField(_("event"), max_length=60)
    event_key = models.CharField(_("event key"), max_length=60)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "endpoint__jurisdiction_id"}

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_key"], name="webhook_delivery_once")]

    def __str__(self):
        return f"{self.endpoint} · {self.event} · {self.status}"
