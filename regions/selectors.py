"""Read access to regions, jurisdictions and agencies. Geography and agency directories are
reference data that every signed-in principal may read; private data is scoped elsewhere."""
import math
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Case, Value, When

from exchange.errors import NotFound, ValidationFailed
from regions.models import Agency, Jurisdiction, Region, StandardSet
from regions.permissions import get_principal, restrict


def regions_for(user):
    get_principal(user)
    return Region.objects.all()


def jurisdictions_for(user):
    get_principal(user)
    return Jurisdiction.objects.select_related("parent").defer("boundary")


def agencies_for(user):
    get_principal(user)
    return Agency.objects.select_related("jurisdiction").prefetch_related("headcounts")


def jurisdiction_by_code(user, code):
    jurisdiction = jurisdictions_for(user).filter(code=code).first()
    if jurisdiction is None:
        raise NotFound(f"No jurisdiction with code {code}.", field="code")
    return jurisdiction


# --- geography ------------------------------------------------------------------------------------------
# Distances are computed here, on the WGS84 ellipsoid (Vincenty's inverse formula, mm accuracy), not by the
# database: SpatiaLite and PostGIS then give exactly the same answer. The database only pre-filters.
WGS84_A, WGS84_F = 6378137.0, 1 / 298.257223563
LEVEL_SPECIFICITY = Case(When(level="county", then=Value(0)), When(level="city", then=Value(1)), default=Value(2))


def geodesic_km(a, b) -> Decimal:
    """Ellipsoidal (WGS84) distance in km between two lon/lat points, 3 decimals."""
    return Decimal(str(_vincenty_m(a.x, a.y, b.x, b.y) / 1000)).quantize(Decimal("0.001"), ROUND_HALF_UP)


def _vincenty_m(lon1, lat1, lon2, lat2):
    a, f = WGS84_A, WGS84_F
    b = a * (1 - f)
    u1, u2 = math.atan((1 - f) * math.tan(math.radians(lat1))), math.atan((1 - f) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    big_l = lam = math.radians(lon2 - lon1)
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha ** 2
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * f * sin_alpha * (sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (
            -1 + 2 * cos_2sm ** 2)))
        if abs(lam - previous) < 1e-12:
            break
    u_sq = cos2_alpha * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = big_b * sin_sigma * (cos_2sm + big_b / 4 * (cos_sigma * (-1 + 2 * cos_2sm ** 2) - big_b / 6 * cos_2sm * (
        -3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return b * big_a * (sigma - delta)


def _point(lon, lat):
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationFailed(f"({lon}, {lat}) is not a WGS84 longitude/latitude.", field="lon")
    return Point(lon, lat, srid=4326)


def jurisdiction_at(user, lon, lat):
    """The most specific jurisdiction (county, then city, then province) whose boundary contains the point,
    or None."""
    return (jurisdictions_for(user).filter(boundary__intersects=_point(lon, lat))
            .order_by(LEVEL_SPECIFICITY, "code").first())


def jurisdictions_within(user, lon, lat, km, level=None):
    """[(jurisdiction, km)] whose representative point lies within `km` of the point, nearest first."""
    if km is None or km < 0:
        raise ValidationFailed("The distance must be ≥ 0 km.", field="km")
    origin = _point(lon, lat)
    candidates = jurisdictions_for(user).filter(centroid__isnull=False).filter(
        centroid__distance_lte=(origin, D(km=km * 1.01 + 1)))  # DB pre-filter; the exact cut is below
    if level:
        candidates = candidates.filter(level=level)
    found = [(j, geodesic_km(origin, j.centroid)) for j in candidates]
    return sorted([(j, d) for j, d in found if d <= Decimal(str(km))], key=lambda pair: (pair[1], pair[0].code))


def distance_between_jurisdictions(user, from_code, to_code) -> Decimal:
    """km between the representative points of two jurisdictions."""
    a, b = jurisdiction_by_code(user, from_code), jurisdiction_by_code(user, to_code)
    if a.centroid is None or b.centroid is None:
        raise NotFound("A jurisdiction has no representative point.", field="code")
    return geodesic_km(a.centroid, b.centroid)


def distance_between_agencies(user, from_agency_id, to_agency_id) -> Decimal:
    """km between the address points of two agencies."""
    agencies = {a.pk: a for a in agencies_for(user).filter(pk__in=[from_agency_id, to_agency_id])}
    for pk, field in ((from_agency_id, "fromAgency"), (to_agency_id, "toAgency")):
        if pk not in agencies:
            raise NotFound(f"No agency {pk}.", field=field)
    return geodesic_km(agencies[from_agency_id].location, agencies[to_agency_id].location)


def standards_in_force(user, region_code, on):
    """The region's standard set in force on `on`, with its norms prefetched."""
    from regions.services.standards import standard_in_force

    region = regions_for(user).filter(code=region_code).first()
    if region is None:
        raise NotFound(f"No region {region_code}.", field="region")
    found = standard_in_force(region, on)
    return (StandardSet.objects.filter(pk=found.pk).select_related("region")
            .prefetch_related("office_norms", "class_norms", "rent_norms__jurisdiction").get())


def standard_sets_for(user):
    return restrict(StandardSet.objects.select_related("region"), user)


def api_tokens_for(user):
    """Token metadata (never keys) of the jurisdictions the caller may read."""
    from regions.models import ApiToken

    return restrict(ApiToken.objects.select_related("jurisdiction").order_by("-created_at", "-id"), user)


def me(user):
    """The caller as {username, roles: [{role, region_code, jurisdiction_code, agency_code, agency_name}],
    via_token, token_prefix, token_scopes}. A token acts as a bureau manager of its jurisdiction."""
    from regions.models import RoleBinding

    principal = get_principal(user)
    token = principal.token
    if token is not None:
        roles = [{"role": "bureau_manager", "jurisdiction_code": token.jurisdiction.code}]
    else:
        roles = [{"role": b.role, "region_code": b.region.code if b.region else None,
                  "jurisdiction_code": b.jurisdiction.code if b.jurisdiction else None,
                  "agency_code": b.agency.code if b.agency else None,
                  "agency_name": b.agency.name_zh if b.agency else None}
                 for b in RoleBinding.objects.filter(user=user).select_related("region", "jurisdiction", "agency")
                 .order_by("role", "id")]
    return {"username": user.get_username(), "roles": roles, "via_token": token is not None,
            "token_prefix": token.prefix if token else None, "token_scopes": token.scopes if token else None}
