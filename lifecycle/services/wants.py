"""Want lists and watch alerts: an agency records what it needs (class, quantity, condition at least, within
km, until, reason); when a matching listing opens, or enters the regional window, the owners of the wants it
matches are notified, nearest first; "matches my wants" lists what the warehouse holds for them now.

A listing matches a want when it offers an asset of the want's class, in at least the wanted condition,
with units left, from another agency, within the want's radius (geodesic km between the listing and the
wanting agency), while the want is active and not past its date, and while the wanting agency may request
the listing (during the own-jurisdiction window only agencies of that jurisdiction)."""
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Listing
from exchange.services.common import locked, require_text
from kernel import audit
from kernel.errors import InvalidState, ValidationFailed
from kernel.geo import km_between
from lifecycle.models import CONDITION_RANK, Want
from notifications.models import Notification
from notifications.services import notify
from regions.membership import ancestors, regions_of
from regions.models import Role, RoleBinding
from regions.permissions import Scope, require, restrict


@transaction.atomic
def record_want(user, *, agency, asset_class, quantity, until, reason, min_condition="fair", within_km=None):
    require(user, "want.record", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    if quantity is None or quantity < 1:
        raise ValidationFailed(_("The quantity must be at least 1."), field="quantity")
    if min_condition not in CONDITION_RANK:
        raise ValidationFailed(_("Unknown condition."), field="min_condition")
    if until is None or until < timezone.localdate():
        raise ValidationFailed(_("The date must be today or later."), field="until")
    if within_km is not None:
        try:
            within_km = Decimal(str(within_km))
        except (InvalidOperation, ValueError):
            within_km = Decimal("-1")
        if not within_km.is_finite() or within_km <= 0 or within_km >= 100000:
            raise ValidationFailed(_("The radius must be a positive number of km."), field="within_km")
    reason = require_text(reason, "reason", _("Say why the agency needs it."))
    want = Want.objects.create(agency=agency, asset_class=asset_class, quantity=quantity, min_condition=min_condition,
                               within_km=within_km, until=until, reason=reason, created_by=user)
    audit.record(user, "want.recorded", want, after={"agency": agency.pk, "class": asset_class.code,
                                                     "quantity": quantity, "min_condition": min_condition,
                                                     "within_km": within_km, "until": until},
                 jurisdiction=agency.jurisdiction)
    return want


@transaction.atomic
def withdraw_want(user, want):
    require(user, "want.record", want)
    want = locked(Want.objects.select_related("agency__jurisdiction")).get(pk=want.pk)
    if want.status != Want.Status.ACTIVE:
        raise InvalidState(_("The want is not active."), field="want_id")
    want.status = Want.Status.WITHDRAWN
    want.save(update_fields=["status"])
    audit.record(user, "want.withdrawn", want, before={"status": "active"}, after={"status": want.status},
                 jurisdiction=want.agency.jurisdiction)
    return want


# --- matching --------------------------------------------------------------------------------------
def _may_request(listing, jurisdiction_ids, region_ids, now):
    if listing.status != Listing.Status.OPEN or listing.quantity_available < 1:
        return False
    if now >= listing.region_window_ends_at:
        return False
    if now < listing.own_window_ends_at:
        return listing.jurisdiction_id in jurisdiction_ids
    return listing.region_id in region_ids


class _Reach:
    """Per wanting agency, what it may request (its jurisdiction's ancestry and regions), computed once."""

    def __init__(self):
        self.cache = {}

    def of(self, agency):
        if agency.pk not in self.cache:
            self.cache[agency.pk] = (set(ancestors([agency.jurisdiction_id])),
                                     set(regions_of([agency.jurisdiction_id])))
        return self.cache[agency.pk]


def _fits(listing, agency, asset_class_id, min_condition, within_km, reach, now):
    """The km between the listing and `agency` when the agency may request it now and it offers units of the
    class in at least `min_condition` within `within_km` (None: any distance); else None."""
    asset = listing.asset
    if (asset is None or asset.asset_class_id != asset_class_id or listing.agency_id == agency.pk
            or CONDITION_RANK.get(asset.condition, 0) < CONDITION_RANK[min_condition]
            or not _may_request(listing, *reach.of(agency), now)):
        return None
    km = km_between(listing.location, agency.location)
    return km if within_km is None or km <= within_km else None


def _match(want, listing, reach, now):
    """The km between the listing and the wanting agency when the listing matches the want, else None."""
    if want.status != Want.Status.ACTIVE or want.until < timezone.localdate(now):
        return None
    return _fits(listing, want.agency, want.asset_class_id, want.min_condition, want.within_km, reach, now)


def idle_items_for(agency, asset_class, *, within_km, min_condition="fair", now=None):
    """[(listing, km)] of open listings of the class the agency may request now, within `within_km` of it,
    nearest first: what the warehouse can give instead of a purchase."""
    now = now or timezone.now()
    reach = _Reach()
    listings = _open_listings().filter(asset__asset_class=asset_class, quantity_available__gte=1,
                                       region_window_ends_at__gt=now).exclude(agency=agency)
    found = [(listing, km) for listing in listings
             if (km := _fits(listing, agency, asset_class.pk, min_condition, within_km, reach, now)) is not None]
    return sorted(found, key=lambda pair: (pair[1], pair[0].pk))


def wants_matching(listing, now=None):
    """[(want, km)] of the active wants the listing matches, nearest first."""
    now = now or timezone.now()
    if listing.asset_id is None:
        return []
    wants = (Want.objects.filter(status=Want.Status.ACTIVE, asset_class_id=listing.asset.asset_class_id,
                                 until__gte=timezone.localdate(now))
             .exclude(agency_id=listing.agency_id).select_related("agency__jurisdiction"))
    reach = _Reach()
    found = [(want, km) for want in wants if (km := _match(want, listing, reach, now)) is not None]
    return sorted(found, key=lambda pair: (pair[1], pair[0].pk))


def alert_wants(listing, now=None):
    """Notify the owners of the wants the listing matches, nearest first, once per (want, listing).
    Returns the number of notifications created."""
    created = 0
    for want, km in wants_matching(listing, now):
        staff = RoleBinding.objects.filter(role=Role.AGENCY_STAFF, agency_id=want.agency_id)
        created += len(notify([*staff.values_list("user_id", flat=True), want.created_by_id],
                              Notification.Kind.WANT_MATCHED, key=f"want:{want.pk}:listing:{listing.pk}",
                              url=reverse("web:listing", args=[listing.pk]),
                              params={"want": f"{want.asset_class.name_zh} ×{want.quantity}", "km": str(km),
                                      "title": listing.title, "listing": listing.pk, "want_id": want.pk}))
    return created


def _open_listings():
    return Listing.objects.filter(status=Listing.Status.OPEN, asset__isnull=False).select_related(
        "asset", "agency", "region")


def alert_regional_wants(now=None):
    """For listings now in the regional window, alert the wants of the whole region (idempotent: each
    (want, listing) is notified once). Returns the number of notifications created."""
    now = now or timezone.now()
    listings = _open_listings().filter(own_window_ends_at__lte=now, region_window_ends_at__gt=now)
    created = 0
    for listing in listings:
        with transaction.atomic():
            created += alert_wants(listing, now)
    return created


def on_listing_opened(event):
    listing = _open_listings().filter(pk=event.object_id).first()
    if listing is not None:
        alert_wants(listing)


def matches_for(user, *, now=None, limit=200):
    """"Matches my wants": [(want, listing, km)] for the active wants the user may see, over the listings the
    user may see, nearest first."""
    now = now or timezone.now()
    wants = list(restrict(Want.objects.filter(status=Want.Status.ACTIVE, until__gte=timezone.localdate(now)), user)
                 .select_related("agency__jurisdiction", "asset_class"))
    if not wants:
        return []
    listings = restrict(_open_listings().filter(asset__asset_class_id__in={w.asset_class_id for w in wants},
                                                region_window_ends_at__gt=now), user, "view")
    reach = _Reach()
    found = [(want, listing, km) for listing in listings for want in wants
             if (km := _match(want, listing, reach, now)) is not None]
    return sorted(found, key=lambda t: (t[2], t[1].pk, t[0].pk))[:limit]
