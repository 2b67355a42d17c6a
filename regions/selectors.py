"""Read access to regions, jurisdictions and agencies. Geography and agency directories are
reference data that every signed-in principal may read; private data is scoped elsewhere."""
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Case, Q, Value, When

from kernel import deadlines
from kernel.errors import NotFound, ValidationFailed
from kernel.geo import geodesic_km
from regions.models import (
    AccessRequest,
    Agency,
    ApiToken,
    Duty,
    Jurisdiction,
    Region,
    RoleBinding,
    SettlingLevel,
    StandardSet,
)
from regions.permissions import get_principal, restrict
from regions.services.access import decidable_q
from regions.services.standards import standard_in_force


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
LEVEL_SPECIFICITY = Case(When(level="county", then=Value(0)), When(level="city", then=Value(1)), default=Value(2))


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
    for pk, field in ((from_agency_id, "from_agency"), (to_agency_id, "to_agency")):
        if pk not in agencies:
            raise NotFound(f"No agency {pk}.", field=field)
    return geodesic_km(agencies[from_agency_id].location, agencies[to_agency_id].location)


def standards_in_force(user, region_code, on):
    """The region's standard set in force on `on`, with its norms prefetched."""
    region = regions_for(user).filter(code=region_code).first()
    if region is None:
        raise NotFound(f"No region {region_code}.", field="region")
    found = standard_in_force(region, on)
    visible = (standard_sets_for(user).filter(pk=found.pk)
               .prefetch_related("office_norms", "class_norms", "rent_norms__jurisdiction").first())
    if visible is None:
        raise NotFound(f"No region {region_code}.", field="region")
    return visible


def standard_sets_for(user):
    return restrict(StandardSet.objects.select_related("region"), user)


def api_tokens_for(user):
    """Token metadata (never keys) of the jurisdictions the caller may read."""
    return restrict(ApiToken.objects.select_related("jurisdiction").order_by("-created_at", "-id"), user)


def me(user):
    """The caller as {username, roles: [{role, region_code, jurisdiction_code, agency_code, agency_name}],
    via_token, token_prefix, token_scopes}. A token acts as a bureau manager of its jurisdiction."""
    principal = get_principal(user)
    token = principal.token
    if token is not None:
        roles = [{"role": "bureau_manager", "jurisdiction_code": token.jurisdiction.code}]
    else:
        roles = [{"role": b.role, "region_code": b.region.code if b.region else None,
                  "jurisdiction_code": b.jurisdiction.code if b.jurisdiction else None,
                  "agency_code": b.agency.code if b.agency else None,
                  "agency_name": b.agency.name_zh if b.agency else None}
                 for b in RoleBinding.objects.active().filter(user=user)
                 .select_related("region", "jurisdiction", "agency").order_by("role", "id")]
    return {"username": user.get_username(), "roles": roles, "via_token": token is not None,
            "token_prefix": token.prefix if token else None, "token_scopes": token.scopes if token else None}


# --- delegation ---------------------------------------------------------------------------------------
def role_bindings_for(user, *, active_only=True):
    """Role bindings in the caller's scope (and the caller's own), newest first."""
    qs = RoleBinding.objects.select_related("user", "region", "jurisdiction", "agency__jurisdiction",
                                            "granted_by", "revoked_by")
    if active_only:
        qs = qs.active()
    return restrict(qs, user).order_by("-granted_at", "-id")


def delegation_scopes(user):
    """Where the caller may grant roles: {"regions": [...], "jurisdictions": [...], "agencies": [...]}."""
    principal = get_principal(user)
    if principal.token is not None:
        return {"regions": [], "jurisdictions": [], "agencies": []}
    jurisdictions = principal.coordinator_jurisdictions | principal.manager_jurisdictions
    return {"regions": list(Region.objects.filter(pk__in=principal.coordinator_regions)),
            "jurisdictions": list(Jurisdiction.objects.filter(pk__in=jurisdictions).defer(
                "boundary", "boundary_simplified").order_by("code")),
            "agencies": list(Agency.objects.filter(jurisdiction_id__in=jurisdictions).select_related(
                "jurisdiction").order_by("jurisdiction__code", "code"))}


def access_requests_to_decide(user):
    """Pending access requests the caller may decide, most urgent first (light computed in SQL)."""


    pending = Q(status=AccessRequest.Status.PENDING)
    return (AccessRequest.objects.filter(pending, decidable_q(get_principal(user)))
            .exclude(requester=user)
            .select_related("requester", "region", "jurisdiction", "agency__jurisdiction")
            .prefetch_related("duties__responsible")
            .annotate(light_now=deadlines.light_expression(pending)).order_by("due_at", "id"))


def my_access_requests(user):


    get_principal(user)
    return (AccessRequest.objects.filter(requester=user)
            .select_related("region", "jurisdiction", "agency__jurisdiction", "decided_by")
            .prefetch_related("duties__responsible")
            .annotate(light_now=deadlines.light_expression(Q(status=AccessRequest.Status.PENDING)))
            .order_by("-created_at", "-id"))


def access_requests_for(user):
    """Access requests the caller may see: their own and those in their scope."""
    return restrict(AccessRequest.objects.select_related(
        "requester", "region", "jurisdiction", "agency__jurisdiction", "decided_by").prefetch_related(
        "duties__responsible"), user)


def duty_queue(user):
    """The open stages the user may see (their bureau's, their region's as coordinator, those they are
    responsible for), most urgent first, the light computed in SQL."""
    open_q = Q(closed_at__isnull=True)
    return (restrict(Duty.objects.filter(open_q), user)
            .annotate(light_now=deadlines.light_expression(open_q))
            .select_related("responsible", "assigned_by", "region", "jurisdiction", "agency", "subject_type")
            .order_by("due_at", "id"))


def duties_of(objects):
    """{(model class, pk): duty} for these objects (stages the caller already sees), in one query."""
    q = Q(pk__in=[])
    for obj in objects:
        q |= Q(subject_type=ContentType.objects.get_for_model(obj), subject_id=obj.pk)
    found = Duty.objects.filter(q).select_related("responsible", "assigned_by", "subject_type")
    return {(d.subject_type.model_class(), d.subject_id): d for d in found}


def settling_levels_for(user, region):
    """The region's settling levels, newest first, if the user may see the region (empty otherwise)."""
    return SettlingLevel.objects.filter(region__in=regions_for(user).filter(pk=region.pk)).order_by("-effective_from")
