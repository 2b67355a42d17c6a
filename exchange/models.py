"""Core exchange models: items (assets, office space), listings, requests, transfers, approval steps,
the import job. Invariants that the database can hold are constraints here (see also migrations)."""
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.gis.db import models
from django.contrib.gis.geos import Point
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel import deadlines
from kernel.geo import PageDistances, geodesic_m
from kernel.peers import PeerLoading
from regions.models import Agency, Jurisdiction, Region
from regions.permissions import visible_q
from regions.scope import Scope

money = {"max_digits": 14, "decimal_places": 2}

# Bounds on what people enter, declared on the fields below and applied by kernel.bounds to every door
# (services, forms, imports) and by its pre_save guard.
MAX_QUANTITY = 10_000  # units per asset record or request
MAX_TEXT = 2_000  # characters of a justification
EARLIEST_ACQUISITION = date(1950, 1, 1)
quantity_bounds = [MinValueValidator(1, message=_("Quantity must be at least 1.")),
                   MaxValueValidator(MAX_QUANTITY, message=_("At most %(limit_value)s units per record."))]


class AssetClass(models.Model):
    """A class of GB/T 14885 (固定资产分类与代码)."""

    class Kind(models.TextChoices):
        EQUIPMENT = "equipment", _("equipment")
        FURNITURE = "furniture", _("furniture")
        VEHICLE = "vehicle", _("vehicle")
        OTHER = "other", _("other")

    code = models.CharField(_("code (GB/T 14885)"), max_length=16, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)

    class Meta:
        verbose_name = _("asset class")
        verbose_name_plural = _("asset classes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name_zh}"


class CarbonFactor(models.Model):
    """The embodied carbon of one new item of a class (kg CO₂e per unit, or per CNY of original value),
    from a named published source (a manufacturer's product carbon footprint, an EPD), effective from a
    date: the factor in force on D is the class's latest with effective_from <= D. A correction is a new
    factor from a date, so a completed transfer keeps the factor it was credited with."""

    asset_class = models.ForeignKey(AssetClass, models.PROTECT, related_name="carbon_factors",
                                    verbose_name=_("asset class"))
    effective_from = models.DateField(_("effective from"))
    kg_per_unit = models.DecimalField(_("kg CO₂e per unit"), max_digits=10, decimal_places=3, null=True, blank=True)
    kg_per_cny = models.DecimalField(_("kg CO₂e per CNY"), max_digits=8, decimal_places=5, null=True, blank=True)
    source = models.CharField(_("source"), max_length=300, help_text=_("the published document the figure is from"))
    scope = models.CharField(_("scope of the figure"), max_length=200, blank=True,
                             help_text=_("e.g. cradle to gate, or the whole life cycle including use"))

    class Meta:
        verbose_name = _("carbon factor")
        verbose_name_plural = _("carbon factors")
        ordering = ["asset_class", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["asset_class", "effective_from"], name="carbon_factor_one_per_day"),
            models.CheckConstraint(condition=Q(kg_per_unit__isnull=False, kg_per_unit__gt=0, kg_per_cny__isnull=True)
                                   | Q(kg_per_unit__isnull=True, kg_per_cny__isnull=False, kg_per_cny__gt=0),
                                   name="carbon_factor_per_unit_or_per_cny"),
            models.CheckConstraint(condition=~Q(source=""), name="carbon_factor_has_source"),
        ]

    def __str__(self):
        per = f"{self.kg_per_unit} kg/unit" if self.kg_per_unit is not None else f"{self.kg_per_cny} kg/CNY"
        return f"{self.asset_class.code} {per} from {self.effective_from}"


class Condition(models.TextChoices):
    NEW = "new", _("new")
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")


class Asset(PeerLoading, models.Model):
    class Status(models.TextChoices):
        IN_USE = "in_use", _("in use")
        IDLE = "idle", _("idle")
        LISTED = "listed", _("listed")
        ALLOCATED = "allocated", _("allocated")
        TRANSFERRED = "transferred", _("transferred")
        DISPOSED = "disposed", _("disposed")

    agency = models.ForeignKey(Agency, models.PROTECT, related_name="assets", verbose_name=_("agency"))
    asset_class = models.ForeignKey(AssetClass, models.PROTECT, related_name="assets",
                                    verbose_name=_("asset class"))
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=quantity_bounds)
    unit = models.CharField(_("unit"), max_length=16, default="台")
    original_value = models.DecimalField(_("original value per unit (CNY)"), **money,
                                         validators=[MinValueValidator(Decimal("0"), message=_(
                                             "Original value must be a non-negative CNY amount with 2 decimals."))])
    acquired_on = models.DateField(_("acquisition date"), validators=[
        MinValueValidator(EARLIEST_ACQUISITION, message=_("The acquisition date cannot be before %(limit_value)s.")),
        MaxValueValidator(timezone.localdate, message=_("The acquisition date cannot be in the future."))])
    condition = models.CharField(_("condition"), max_length=8, choices=Condition.choices, default=Condition.GOOD)
    location = models.PointField(_("location"), srid=4326)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.IN_USE,
                              db_index=True)
    asset_number = models.CharField(_("asset number"), max_length=40, blank=True, default="",
                                    help_text=_("The agency's own asset number (unique within the agency)."))
    origin_transfer = models.ForeignKey("Transfer", models.PROTECT, null=True, blank=True, related_name="+",
                                        verbose_name=_("origin transfer"),
                                        help_text=_("The transfer this record came from, if any."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "agency__jurisdiction_id", "agency": "agency_id"}

    @classmethod
    def extra_visibility(cls, principal):
        """An asset is also visible wherever a listing of it is, and to the parties of the transfer that
        created it at the receiver (the GraphQL edges Listing.asset and Transfer.receivedAsset)."""
        return (Q(pk__in=Listing.objects.filter(visible_q(Listing, principal)).values("asset_id"))
                | Q(pk__in=Transfer.objects.filter(visible_q(Transfer, principal)).values("received_asset_id")))

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(original_value__gte=0), name="asset_value_not_negative"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="asset_quantity_positive"),
            models.UniqueConstraint(fields=["agency", "asset_number"], condition=~Q(asset_number=""),
                                    name="asset_number_unique_per_agency"),
        ]

    def __str__(self):
        return f"{self.description} ×{self.quantity}"

    def permission_scope(self):
        return Scope(jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)


def photo_path(instance, filename):
    return f"assets/{instance.asset_id}/{filename}"


class AssetPhoto(models.Model):
    asset = models.ForeignKey(Asset, models.CASCADE, related_name="photos", verbose_name=_("asset"))
    file = models.FileField(_("file"), upload_to=photo_path)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    @staticmethod
    def extra_visibility(principal):
        """A photo is visible with its asset."""
        return Q(asset_id__in=Asset.objects.filter(visible_q(Asset, principal)).values("pk"))

    class Meta:
        verbose_name = _("asset photo")
        verbose_name_plural = _("asset photos")


class OfficeSpace(PeerLoading, models.Model):
    class Status(models.TextChoices):
        IN_USE = "in_use", _("in use")
        IDLE = "idle", _("idle")
        LISTED = "listed", _("listed")
        ALLOCATED = "allocated", _("allocated")
        OCCUPIED = "occupied", _("reallocated")

    agency = models.ForeignKey(Agency, models.PROTECT, related_name="office_spaces", verbose_name=_("agency"))
    building = models.CharField(_("building"), max_length=200)
    floor = models.CharField(_("floor"), max_length=20)
    rooms = models.CharField(_("room(s)"), max_length=200)
    area_m2 = models.DecimalField(_("usable area (m²)"), max_digits=8, decimal_places=2,
                                  validators=[MinValueValidator(Decimal("0.01"))])
    location = models.PointField(_("location"), srid=4326)
    available_from = models.DateField(_("available from"))
    available_to = models.DateField(_("available to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.IN_USE)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "agency__jurisdiction_id", "agency": "agency_id"}

    @classmethod
    def extra_visibility(cls, principal):
        """Office space is also visible wherever a listing of it is (the edge Listing.officeSpace)."""
        return Q(pk__in=Listing.objects.filter(visible_q(Listing, principal)).values("office_space_id"))

    class Meta:
        verbose_name = _("office space")
        verbose_name_plural = _("office spaces")
        constraints = [
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="office_area_positive"),
            models.CheckConstraint(condition=Q(available_to__isnull=True)
                                   | Q(available_to__gte=F("available_from")), name="office_dates_ordered"),
        ]

    def __str__(self):
        return f"{self.building} {self.floor} {self.rooms} ({self.area_m2} m²)"

    def permission_scope(self):
        return Scope(jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)


class Occupancy(models.Model):
    """Office space used by another agency after a transfer (办公用房调剂使用): the owning agency keeps the
    space; the occupant uses `area_m2` from `starts_on` (the handover) until it ends: `ended_on` when ended
    by `end_occupancy`, at the latest `ends_on` (the space's `available_to`). Both end dates are the last day
    of use, inclusive. Rent-equivalent is posted per calendar month, prorated by days."""

    office_space = models.ForeignKey(OfficeSpace, models.PROTECT, related_name="occupancies",
                                     verbose_name=_("office space"))
    transfer = models.OneToOneField("Transfer", models.PROTECT, related_name="occupancy", verbose_name=_("transfer"))
    occupant = models.ForeignKey(Agency, models.PROTECT, related_name="occupancies", verbose_name=_("occupant"))
    area_m2 = models.DecimalField(_("area (m²)"), max_digits=8, decimal_places=2)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends at the latest on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    SCOPE_LOOKUPS = {"jurisdiction": ["office_space__agency__jurisdiction_id", "occupant__jurisdiction_id"],
                     "agency": ["office_space__agency_id", "occupant_id"]}

    class Meta:
        verbose_name = _("occupancy")
        verbose_name_plural = _("occupancies")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="occupancy_area_positive"),
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                                   name="occupancy_ends_after_start"),
            models.CheckConstraint(condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("starts_on")),
                                   name="occupancy_ended_after_start"),
            models.UniqueConstraint(fields=["office_space"], condition=Q(ended_on__isnull=True),
                                    name="one_open_occupancy_per_space"),
        ]

    def __str__(self):
        return f"{self.occupant} @ {self.office_space} from {self.starts_on}"

    @property
    def last_day(self):
        """The last day of use so far decided (ended, or the planned end), or None while open-ended."""
        days = [d for d in (self.ended_on, self.ends_on) if d is not None]
        return min(days) if days else None

    def permission_scope(self):
        return Scope(jurisdiction_id=self.occupant.jurisdiction_id, agency_id=self.occupant_id)


class Listing(PeerLoading, models.Model):
    """An idle item offered in the shared warehouse. `quantity_available` is decremented by each
    allocation in one conditional UPDATE; the CHECK (>= 0) makes over-allocation impossible."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("listing", "open")
        ALLOCATED = "allocated", _("fully allocated")
        CLOSED = "closed", pgettext_lazy("listing", "closed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Window(models.TextChoices):
        JURISDICTION = "jurisdiction", _("own jurisdiction")
        REGION = "region", _("whole region")
        DISPOSAL = "disposal", _("disposal")

    region = models.ForeignKey(Region, models.PROTECT, related_name="listings", verbose_name=_("region"))
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="listings", verbose_name=_("giving agency"))
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="listings",
                                     verbose_name=_("jurisdiction"))
    asset = models.ForeignKey(Asset, models.PROTECT, null=True, blank=True, related_name="listings",
                              verbose_name=_("asset"))
    office_space = models.ForeignKey(OfficeSpace, models.PROTECT, null=True, blank=True,
                                     related_name="listings", verbose_name=_("office space"))
    title = models.CharField(_("title"), max_length=300)
    search_text = models.TextField(_("search text"), blank=True)
    location = models.PointField(_("location"), srid=4326, spatial_index=True)
    quantity = models.PositiveIntegerField(_("quantity offered"))
    quantity_available = models.IntegerField(_("quantity available"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    own_window_ends_at = models.DateTimeField(_("own-jurisdiction window ends"))
    region_window_ends_at = models.DateTimeField(_("regional window ends"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id", "agency": "agency_id"}

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ["-opened_at", "-id"]
        # The listing page's order (newest first; oldest first walks it backwards), so a page of a million
        # listings is an index range, not a sort.
        indexes = [models.Index(F("opened_at").desc(), F("id").desc(), name="listing_newest_first")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_available__gte=0), name="listing_never_overallocated"),
            models.CheckConstraint(condition=Q(quantity_available__lte=F("quantity")),
                                   name="listing_available_within_offered"),
            models.CheckConstraint(condition=(Q(asset__isnull=False) & Q(office_space__isnull=True))
                                   | (Q(asset__isnull=True) & Q(office_space__isnull=False)),
                                   name="listing_exactly_one_item"),
            models.UniqueConstraint(fields=["asset"], condition=Q(status="open"), name="one_open_listing_per_asset"),
            models.UniqueConstraint(fields=["office_space"], condition=Q(status="open"),
                                    name="one_open_listing_per_office"),
        ]

    def __str__(self):
        return self.title

    def permission_scope(self):
        return Scope(jurisdiction_id=self.jurisdiction_id, agency_id=self.agency_id)

    @classmethod
    def extra_visibility(cls, principal):
        """Open listings are visible region-wide once the own-jurisdiction window has passed, and to
        every agency of the listing's jurisdiction during it; a listing stays visible to those who
        requested it (the edge TransferRequest.listing)."""
        now = Now()  # the database's clock: the SQL stays the same from one moment to the next
        own = principal.staff_agency_jurisdictions | principal.bureau_jurisdictions
        requested = TransferRequest.objects.filter(
            Q(agency_id__in=principal.staff_agencies) | Q(agency__jurisdiction_id__in=principal.bureau_jurisdictions))
        return (Q(cls.past_own_window(now), status=cls.Status.OPEN, region_id__in=principal.regions)
                | Q(status=cls.Status.OPEN, jurisdiction_id__in=own)
                | Q(pk__in=requested.values("listing_id")))

    # --- screening windows: own jurisdiction, then the whole region, then disposal ---------------------
    @staticmethod
    def window_ends(standards, opened):
        """(own-jurisdiction end, regional end) of a listing opened at `opened`, with the window lengths
        of the standard set in force."""
        own_end = opened + timedelta(days=standards.own_window_days)
        return own_end, own_end + timedelta(days=standards.region_window_days)
    @property
    def search_km(self):
        """km from the point a search measured from (set by `listings_for`), by the WGS84 geodesic; else None."""
        if getattr(self, "near_lon", None) is None:
            return None
        if "search_m" not in self.__dict__ and PageDistances.KEY in self.__dict__:
            self.__dict__[PageDistances.KEY].fill()  # a page's distances, computed together (selectors)
        if "search_m" in self.__dict__:
            return self.__dict__["search_m"] / 1000
        return geodesic_m(Point(self.near_lon, self.near_lat, srid=4326), self.location) / 1000

    def window_at(self, when=None):
        when = when or timezone.now()
        if when < self.own_window_ends_at:
            return self.Window.JURISDICTION
        if when < self.region_window_ends_at:
            return self.Window.REGION
        return self.Window.DISPOSAL

    def window_ends_at(self, when=None):
        """When the window open at `when` ends; None in disposal."""
        return {self.Window.JURISDICTION: self.own_window_ends_at,
                self.Window.REGION: self.region_window_ends_at}.get(self.window_at(when))

    @classmethod
    def in_window(cls, window, when=None):
        """Q of the listings whose window at `when` is `window`."""
        when = when or timezone.now()
        return {cls.Window.JURISDICTION: Q(own_window_ends_at__gt=when),
                cls.Window.REGION: Q(own_window_ends_at__lte=when, region_window_ends_at__gt=when),
                cls.Window.DISPOSAL: Q(region_window_ends_at__lte=when)}[window]

    @classmethod
    def past_own_window(cls, when=None):
        """Q of the listings whose own-jurisdiction window has closed at `when` (allocation at close may run)."""
        return Q(own_window_ends_at__lte=when or timezone.now())

    def window_closed(self, when=None):
        """Whether a window has closed at `when`, so that the requests made in it can be allocated."""
        return (when or timezone.now()) >= self.own_window_ends_at

    def requests_of_closed_windows(self, when=None):
        """The pending requests that allocation at `when` decides: those made during the own-jurisdiction
        window while the regional window runs, all of them once it has closed."""
        pending = self.requests.filter(status=TransferRequest.Status.PENDING)
        if self.window_at(when) == self.Window.REGION:
            pending = pending.filter(created_at__lt=self.own_window_ends_at)
        return pending


class TransferRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("request", "pending")
        ALLOCATED = "allocated", _("allocated")
        NOT_ALLOCATED = "not_allocated", _("not allocated")
        WITHDRAWN = "withdrawn", _("withdrawn")

    listing = models.ForeignKey(Listing, models.PROTECT, related_name="requests", verbose_name=_("listing"))
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="requests",
                               verbose_name=_("requesting agency"))
    quantity = models.PositiveIntegerField(_("quantity"), validators=quantity_bounds)
    justification = models.TextField(_("justification"), max_length=MAX_TEXT)
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    priority_tier = models.PositiveSmallIntegerField(_("priority tier (1 = highest)"), default=2)
    exception_requested = models.BooleanField(_("exception requested"), default=False)
    exception_justification = models.TextField(_("exception justification"), max_length=MAX_TEXT, blank=True)
    breaches = models.JSONField(_("standards breaches"), default=list, blank=True)
    standard_set = models.ForeignKey("regions.StandardSet", models.PROTECT, null=True, related_name="+",
                                     verbose_name=_("standard set applied"))
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    duties = GenericRelation("regions.Duty", content_type_field="subject_type", object_id_field="subject_id")

    SCOPE_LOOKUPS = {"jurisdiction": ["agency__jurisdiction_id", "listing__jurisdiction_id"],
                     "agency": ["agency_id", "listing__agency_id"]}

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="request_quantity_positive")]

    def __str__(self):
        return f"{self.agency} → {self.listing} ×{self.quantity}"

    def permission_scope(self):
        return Scope(jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)


class Transfer(models.Model):
    """An allocation of (part of) a listing to one request, through approvals to handover."""

    class Status(models.TextChoices):
        APPROVING = "approving", _("approving")
        HANDOVER = "handover", _("awaiting handover")
        COMPLETED = "completed", _("completed")
        REFUSED = "refused", _("refused")
        CANCELLED = "cancelled", _("cancelled")

    ACTIVE = ("approving", "handover", "completed")

    request = models.OneToOneField(TransferRequest, models.PROTECT, related_name="transfer",
                                   verbose_name=_("request"))
    listing = models.ForeignKey(Listing, models.PROTECT, related_name="transfers", verbose_name=_("listing"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="transfers", verbose_name=_("region"))
    giver = models.ForeignKey(Agency, models.PROTECT, related_name="transfers_out", verbose_name=_("giving agency"))
    receiver = models.ForeignKey(Agency, models.PROTECT, related_name="transfers_in",
                                 verbose_name=_("receiving agency"))
    giver_jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="+")
    receiver_jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    value = models.DecimalField(_("original value moved (CNY)"), **money)
    distance_km = models.DecimalField(_("distance (km)"), max_digits=9, decimal_places=2, default=Decimal("0"))
    allocation_reason = models.TextField(_("allocation reason"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPROVING,
                              db_index=True)
    status_reason = models.TextField(_("reason"), blank=True)
    allocated_at = models.DateTimeField(_("allocated at"), default=timezone.now)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    received_quantity = models.PositiveIntegerField(_("quantity received"), null=True, blank=True)
    received_condition = models.CharField(_("condition received"), max_length=8, choices=Condition.choices,
                                          blank=True)
    received_asset = models.ForeignKey(Asset, models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("asset record at receiver"))
    certificate_code = models.CharField(_("certificate code"), max_length=16, unique=True, null=True,
                                        blank=True)
    duties = GenericRelation("regions.Duty", content_type_field="subject_type", object_id_field="subject_id")
    co2_avoided_kg = models.DecimalField(_("CO₂ avoided (kg CO₂e)"), max_digits=12, decimal_places=1, null=True,
                                         blank=True, help_text=_("set at completion from the class's carbon factor"))
    carbon_factor = models.ForeignKey(CarbonFactor, models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("carbon factor"))

    SCOPE_LOOKUPS = {"jurisdiction": ["giver_jurisdiction_id", "receiver_jurisdiction_id"],
                     "agency": ["giver_id", "receiver_id"]}

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-allocated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="transfer_quantity_positive"),
            models.CheckConstraint(condition=~Q(giver=F("receiver")), name="transfer_between_agencies"),
            models.CheckConstraint(condition=Q(received_quantity__isnull=True)
                                   | Q(received_quantity__lte=F("quantity")),
                                   name="transfer_received_within_allocated"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.giver} → {self.receiver}"

    CERTIFICATE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I

    @classmethod
    def new_certificate_code(cls):
        """A random 12-character code (60 bits): the verify endpoint is public, so codes must not be
        guessable."""
        return "".join(secrets.choice(cls.CERTIFICATE_ALPHABET) for _ in range(12))

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.receiver_jurisdiction_id,
                     agency_id=self.receiver_id)


class ApprovalStep(models.Model):
    class Kind(models.TextChoices):
        GIVING_BUREAU = "giving_bureau", _("giving bureau")
        RECEIVING_BUREAU = "receiving_bureau", _("receiving bureau")
        COORDINATOR = "coordinator", pgettext_lazy("approval step", "regional coordinator")

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        CLOSED = "closed", _("closed")

    Light = deadlines.Light

    transfer = models.ForeignKey(Transfer, models.CASCADE, related_name="steps", verbose_name=_("transfer"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="+")
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"), db_index=True)
    yellow_at = models.DateTimeField(_("yellow light from"), db_index=True,
                                     help_text=_("two thirds of the time between opening and deadline"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices,
                                default=Decision.PENDING, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    last_reminded_light = models.CharField(max_length=8, blank=True, default="")
    duties = GenericRelation("regions.Duty", content_type_field="subject_type", object_id_field="subject_id")

    SCOPE_LOOKUPS = {"jurisdiction": ["transfer__giver_jurisdiction_id", "transfer__receiver_jurisdiction_id"],
                     "agency": ["transfer__giver_id", "transfer__receiver_id"]}

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "kind"], name="one_step_per_kind"),
            models.CheckConstraint(condition=Q(region__isnull=False) | Q(jurisdiction__isnull=False),
                                   name="step_has_scope"),
            models.CheckConstraint(condition=Q(yellow_at__gte=F("opened_at"), due_at__gte=F("yellow_at")),
                                   name="step_times_ordered"),
        ]

    def __str__(self):
        return f"{self.transfer} · {self.get_kind_display()}"

    def permission_scope(self):
        return Scope(region_id=self.region_id, jurisdiction_id=self.jurisdiction_id)

    @staticmethod
    def schedule(opened, due):
        """The step's times: opened, yellow once two thirds of the time to the deadline is used, due."""
        return {"opened_at": opened, "yellow_at": deadlines.yellow_from(opened, due), "due_at": due}

    def light_at(self, when=None):
        """green until two thirds of the time is used, yellow until the deadline, red after it."""
        if self.decision != self.Decision.PENDING:
            return None
        return self.Light(deadlines.light(self.yellow_at, self.due_at, when))

    @property
    def light(self):
        return getattr(self, "light_now", None) or self.light_at()

    @classmethod
    def light_expression(cls, when=None):
        """The light as a SQL expression (NULL once decided), so lists filter and sort by it in the DB."""
        return deadlines.light_expression(Q(decision=cls.Decision.PENDING), when=when)

    @classmethod
    def light_rank_expression(cls, when=None):
        """Red 0, yellow 1, green 2, decided 3: ascending order puts the most urgent first."""
        return deadlines.light_rank_expression(Q(decision=cls.Decision.PENDING), when=when)


class ImportJob(models.Model):
    """A bulk asset import (CSV) run by Celery, with progress and a per-row error report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    agency = models.ForeignKey(Agency, models.PROTECT, related_name="import_jobs", verbose_name=_("agency"))
    file = models.FileField(_("file"), upload_to="imports/")
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    imported_rows = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    SCOPE_LOOKUPS = {"jurisdiction": "agency__jurisdiction_id", "agency": "agency_id"}

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def permission_scope(self):
        return Scope(jurisdiction_id=self.agency.jurisdiction_id, agency_id=self.agency_id)
