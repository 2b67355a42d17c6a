"""Reads for the exchange, always through `regions.permissions.restrict`."""
import math

from django.contrib.gis.db.models import PointField
from django.contrib.gis.db.models.functions import Distance, GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db import connection
from django.db.models import Count, FloatField, Func, Prefetch, Q, Sum, Value
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import (
    ApprovalStep,
    Asset,
    AssetClass,
    AssetPhoto,
    ImportJob,
    Listing,
    Occupancy,
    OfficeSpace,
    Transfer,
    TransferRequest,
)
from kernel import prepared
from kernel.errors import NotFound, ValidationFailed
from kernel.geo import PageDistances
from kernel.models import AuditEvent
from kernel.peers import PEERS
from kernel.refcache import RowCache, attach
from regions.models import Agency, Jurisdiction
from regions.permissions import get_principal, restrict, scope_key
from regions.reference import AGENCIES, JURISDICTIONS, REGIONS

# Joined in SQL: the rows that vary. Regions, jurisdictions, agencies and asset classes come from per-process
# caches (kernel.refcache): an 8-table join costs PostgreSQL tens of ms to plan, this one under 1 ms.
LISTING_RELATED = ("asset", "office_space")
ASSET_CLASSES = RowCache(AssetClass)


class ListingIterable(ModelIterable):
    """Listings with their region, jurisdiction, agency's jurisdiction and asset class attached from the
    reference caches (no query, no join once cached); read with only some fields (a search card), the rows
    of a page load the others together (kernel.peers)."""

    def __iter__(self):
        yield from self.finish(PEERS.join_deferred(list(super().__iter__()), *LISTING_RELATED))

    @staticmethod
    def finish(rows):
        return with_reference(rows)


def with_reference(rows):
    """Listings (asset and office space joined) with their region, jurisdiction, agency, agency's
    jurisdiction and asset class attached from the reference caches, and, after a search from a point,
    their geodesic distances computed together at the first read of one (kernel.geo.PageDistances)."""
    if not rows:
        return rows
    attach(rows, "agency", AGENCIES)
    agencies = list({id(r.agency): r.agency for r in rows}.values())
    JURISDICTIONS.get_many([r.jurisdiction_id for r in rows] + [a.jurisdiction_id for a in agencies])
    attach(rows, "region", REGIONS)
    attach(rows, "jurisdiction", JURISDICTIONS)
    attach(agencies, "jurisdiction", JURISDICTIONS)
    attach([r.asset for r in rows if r.asset_id], "asset_class", ASSET_CLASSES)
    if getattr(rows[0], "near_lon", None) is not None:
        PageDistances(rows[0].near_lon, rows[0].near_lat, rows)
    return rows


def listings_base():
    """All listings with the relations a listing page shows (before any permission filter)."""
    qs = Listing.objects.select_related(*LISTING_RELATED)
    qs._iterable_class = ListingIterable
    return qs


def asset_classes(user):
    get_principal(user)
    return AssetClass.objects.all()


def assets_for(user):
    return restrict(Asset.objects.select_related("agency__jurisdiction", "asset_class")
                    .prefetch_related("photos"), user)


def occupancies_for(user):
    """Occupancies of office space the user may see (the owner's and the occupant's side)."""
    return restrict(Occupancy.objects.select_related(
        "office_space__agency__jurisdiction", "occupant__jurisdiction", "transfer"), user)


def office_spaces_for(user):
    return restrict(OfficeSpace.objects.select_related("agency__jurisdiction"), user)


def _agency_point(user, agency_id):
    agency = restrict(Agency.objects.all(), user).filter(pk=agency_id).first() if agency_id else None
    if agency_id and agency is None:
        raise NotFound(field="from_agency_id")
    if agency is None:
        principal = get_principal(user)
        agency = Agency.objects.filter(pk__in=principal.staff_agencies).order_by("pk").first()
        if agency is None:
            raise ValidationFailed(_("Name a point or an agency to measure distance from."), field="from_agency_id")
    return agency.location


def filter_text(qs, text):
    """Every word must occur in the listing's search text (substring match: works for Chinese)."""
    for word in (text or "").lower().split():
        qs = qs.filter(search_text__contains=word)
    return qs


def filter_window(qs, window, now=None):
    return qs.filter(Listing.in_window(window, now)) if window else qs


LISTING_ORDERS = {"newest": ("-opened_at", "-id"), "oldest": ("opened_at", "id")}


def listings_for(user, *, text=None, near=None, from_agency_id=None, from_my_agency=False, within_km=None,
                 window=None, now=None, order=None, card=False):
    """Listings visible to the user. Text matches every word in the title, class, agency and place names
    (Chinese too). With a point (`near`, an agency, or the user's own agency) results are ordered nearest
    first (unless `order` is "newest" or "oldest") and carry `distance_m` (ordering) and `search_km` (the
    WGS84 geodesic shown); on PostGIS the order is the KNN `<->` operator on the GiST index and the geodesic
    is computed only for the rows returned. `card`: only the fields of a search card (LISTING_CARD) are read,
    and `distance_m` orders without being selected."""
    qs = restrict(listings_base(), user)
    if card:
        qs = qs.only(*LISTING_CARD)
    qs = filter_window(filter_text(qs, text), window, now)
    point = near
    if point is None and (from_agency_id or from_my_agency):
        point = _agency_point(user, from_agency_id)
    if point is None:
        if within_km is not None:
            raise ValidationFailed(_("A distance limit needs a point or an agency."), field="within_km")
        if order == "distance":
            raise ValidationFailed(_("Ordering by distance needs a point or an agency."), field="order_by")
        return qs.order_by(*LISTING_ORDERS[order or "newest"])
    if point.geom_type != "Point":
        raise ValidationFailed(_("`near` must be a GeoJSON Point."), field="near")
    point = Point(point.x, point.y, srid=4326)
    postgis = connection.vendor == "postgresql"
    if within_km is not None:
        if postgis:
            # Index-friendly planar prefilter in degrees (a superset; a plain number in dwithin means degrees
            # on PostGIS but metres on SpatiaLite, so only here), then the exact geodesic test on both.
            degrees = within_km / (111.32 * max(math.cos(math.radians(min(abs(point.y) + within_km / 111.0, 89))),
                                                 0.01)) * 1.05
            qs = qs.filter(location__dwithin=(point, degrees))
        qs = qs.filter(location__distance_lte=(point, D(km=within_km)))
    # The database distance orders (and uses the index); the figure shown is the product's one geodesic
    # (Listing.search_km, from the search point annotated here).
    qs = (qs.alias if card else qs.annotate)(distance_m=Distance("location", point))
    qs = qs.annotate(near_lon=Value(point.x, output_field=FloatField()),
                     near_lat=Value(point.y, output_field=FloatField()))
    if order in LISTING_ORDERS:
        return qs.order_by(*LISTING_ORDERS[order])
    if postgis:
        # KNN `<->` alone (no tie-break column) lets PostgreSQL walk the GiST index in distance order.
        return qs.order_by(nearest_first(point))
    return qs.order_by("distance_m", "id")


# What a search card shows (graphql/operations/SearchNearbyListings.graphql), and the keys it reaches the
# reference rows by; the rest of a row is loaded for the whole page at the first read of it (kernel.peers).
LISTING_CARD = ("region", "agency", "jurisdiction", "asset", "office_space", "title", "location", "quantity",
                "quantity_available", "own_window_ends_at", "region_window_ends_at", "status",
                "asset__asset_class", "asset__condition", "asset__original_value", "asset__acquired_on",
                "office_space__building", "office_space__area_m2")


def nearest_queryset(user, point, *, limit=20, **filters):
    """The query `nearest_listings` runs."""
    return listings_for(user, near=point, card=True).filter(**filters)[:limit]


class Mercator(Func):
    """The location in Web Mercator (EPSG:3857), SRID written into the SQL as in the index's expression."""
    function = "ST_Transform"
    template = "%(function)s(%(expressions)s, 3857)"
    output_field = PointField(srid=3857)


def nearest_first(point):
    """PostGIS KNN `<->` between the locations and the point in Web Mercator, on the GiST index of that
    expression (migration 0012). Mercator is conformal: around a point it scales every direction alike, so
    its order agrees with the WGS84 geodesic shown to within 0.4 % (at 30° N a plain `<->` on degrees ranks
    a listing 9 km east after one 10 km north), at the speed of the plain `<->`."""
    return GeometryDistance(Mercator("location"), Mercator(Value(point, output_field=PointField(srid=4326))))


def nearest_listings(user, point, *, limit=20, **filters):
    """The `limit` listings visible to the user nearest `point` (`filters`: Listing field lookups), in the order
    `listings_for(user, near=point).filter(**filters)[:limit]` gives them, with the fields of a search card
    (LISTING_CARD) read; on PostGIS from a statement compiled once per scope and prepared (kernel.prepared)."""
    def build(near):
        return nearest_queryset(user, near, limit=limit, **filters)

    if connection.vendor != "postgresql":
        return list(build(point))
    key = ("nearest_listings", scope_key(get_principal(user)), connection.alias, tuple(sorted(filters.items())), limit)
    found = prepared.statement(key, build)
    return found.run(point) if found else list(build(point))


def my_listings(user):
    """Listings of the agencies the user acts for (staff: its agency; bureau: its jurisdictions' agencies),
    every status, newest first, with what each listing has given out so far."""
    principal = get_principal(user)
    mine = Q(agency_id__in=principal.staff_agencies) | Q(jurisdiction_id__in=principal.bureau_jurisdictions)
    return (restrict(listings_base().filter(mine), user)
            .annotate(pending_requests=Count("requests", filter=Q(requests__status=TransferRequest.Status.PENDING)))
            .order_by("-opened_at", "-id"))


def import_jobs_for(user):
    """Asset import jobs the user may see, newest first."""
    return restrict(ImportJob.objects.select_related("agency__jurisdiction", "created_by"), user).defer(
        "agency__jurisdiction__boundary", "agency__jurisdiction__boundary_simplified").order_by("-created_at", "-id")


def listing(user, pk):
    found = listings_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(field="listing_id")
    return found


def requests_for(user):
    """Requests visible to the user (either party)."""
    return restrict(TransferRequest.objects.select_related(
        "agency__jurisdiction", "listing__agency__jurisdiction", "transfer"), user)


def _steps_prefetch(when=None):
    return Prefetch("steps", queryset=ApprovalStep.objects.select_related("decided_by")
                    .annotate(light_now=ApprovalStep.light_expression(when)).order_by("kind"))


def transfers_for(user):
    return restrict(Transfer.objects.select_related(
        "region", "giver__jurisdiction", "receiver__jurisdiction", "giver_jurisdiction", "receiver_jurisdiction",
        "request", "listing__asset__asset_class", "listing__office_space", "received_asset")
        .prefetch_related(_steps_prefetch()), user)


def transfer(user, pk):
    found = transfers_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(field="transfer_id")
    return found


def approval_steps_for(user, *, when=None):
    """Steps visible to the user with their light computed in SQL (`light_now`, `light_rank`)."""
    return restrict(ApprovalStep.objects.select_related(
        "transfer__giver__jurisdiction", "transfer__receiver__jurisdiction", "transfer__listing", "region",
        "jurisdiction", "decided_by"), user).annotate(
        light_now=ApprovalStep.light_expression(when), light_rank=ApprovalStep.light_rank_expression(when))


STEP_ORDERS = {"light": ("light_rank", "due_at", "id"), "due_at": ("due_at", "id"),
               "due_at_desc": ("-due_at", "-id"), "opened_at": ("opened_at", "id"),
               "opened_at_desc": ("-opened_at", "-id")}


def order_steps(steps, order):
    """Approval steps in one of the orders of STEP_ORDERS (light: most urgent first)."""
    return steps.order_by(*STEP_ORDERS[order])


def my_overdue_steps(user, *, when=None):
    """Pending steps past their deadline that the user is the authority for."""
    principal = get_principal(user)
    mine = (Q(kind=ApprovalStep.Kind.COORDINATOR, region_id__in=principal.coordinator_regions)
            | (~Q(kind=ApprovalStep.Kind.COORDINATOR) & Q(jurisdiction_id__in=principal.bureau_jurisdictions)))
    return approval_steps_for(user, when=when).filter(
        mine, decision=ApprovalStep.Decision.PENDING, due_at__lte=when or timezone.now())


def overdue_steps(user, *, when=None):
    """Every pending step the user can see that is past its deadline (the region's red steps), oldest due first."""
    return approval_steps_for(user, when=when).filter(
        decision=ApprovalStep.Decision.PENDING, due_at__lte=when or timezone.now()).order_by("due_at", "id")


def status_counts(user, region=None):
    """{status: number of transfers} over the transfers the user can see (of the region, if given)."""
    visible = restrict(Transfer.objects.filter(**({"region": region} if region else {})), user)
    rows = visible.order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def transfer_flows(user, region=None, limit=50):
    """Transfers under way or done between two jurisdictions, the busiest pairs first: dicts with `giver`
    and `receiver` (jurisdictions), `n` and `value` (two queries whatever the number of pairs)."""
    active = Transfer.objects.filter(status__in=Transfer.ACTIVE, **({"region": region} if region else {}))
    flows = list(restrict(active, user).order_by()
                 .values("giver_jurisdiction_id", "receiver_jurisdiction_id")
                 .annotate(n=Count("id"), value=Sum("value")).order_by("-n", "-value")[:limit])
    ids = {f["giver_jurisdiction_id"] for f in flows} | {f["receiver_jurisdiction_id"] for f in flows}
    names = Jurisdiction.objects.defer("boundary", "boundary_simplified").in_bulk(ids)
    for flow in flows:
        flow["giver"], flow["receiver"] = names[flow["giver_jurisdiction_id"]], names[flow["receiver_jurisdiction_id"]]
    return flows


def transfer_trail(user, transfer_pk):
    """The audit events of a transfer, oldest first, for auditors and parties who can see it."""
    found = transfer(user, transfer_pk)
    return AuditEvent.objects.filter(transfer=found).select_related("actor", "via_token").order_by("id")


def search_transfers(user, *, text=None, status=None, agency_id=None, jurisdiction_id=None, date_from=None,
                     date_to=None, value_min=None, value_max=None, certificate=None):
    """Transfers visible to the user matching every given criterion, newest first (auditors' search).
    `text`: every word in the item's search text, a party's name or the certificate number; agency and
    jurisdiction: either party; dates: day of allocation (Asia/Shanghai); value: original value moved."""
    qs = transfers_for(user).defer(*(f"{side}{part}__{field}" for side in ("giver", "receiver")
                                     for part in ("_jurisdiction", "__jurisdiction")
                                     for field in ("boundary", "boundary_simplified")))
    for word in (text or "").split():
        qs = qs.filter(Q(listing__search_text__contains=word.lower()) | Q(giver__name_zh__contains=word)
                       | Q(receiver__name_zh__contains=word) | Q(giver__name_en__icontains=word)
                       | Q(receiver__name_en__icontains=word) | Q(certificate_code__iexact=word))
    if status:
        qs = qs.filter(status=status)
    if agency_id:
        qs = qs.filter(Q(giver_id=agency_id) | Q(receiver_id=agency_id))
    if jurisdiction_id:
        qs = qs.filter(Q(giver_jurisdiction_id=jurisdiction_id) | Q(receiver_jurisdiction_id=jurisdiction_id))
    if date_from:
        qs = qs.filter(allocated_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(allocated_at__date__lte=date_to)
    if value_min is not None:
        qs = qs.filter(value__gte=value_min)
    if value_max is not None:
        qs = qs.filter(value__lte=value_max)
    if certificate:
        qs = qs.filter(certificate_code__iexact=certificate.strip())
    return qs.order_by("-allocated_at", "-id")


def photo(user, pk):
    """A photo of an asset in the user's scope, or of an asset listed where the user may see it."""
    found = AssetPhoto.objects.filter(Q(asset__in=assets_for(user)) | Q(asset__listings__in=listings_for(user)),
                                      pk=pk).first()
    if found is None:
        raise NotFound(field="photo_id")
    return found
