"""Import jurisdictions and boundaries from a GeoJSON FeatureCollection, idempotently, in one
transaction. Features carry `code`, `name_zh`, `name_en`, `level`, `parent_code`."""
import json
from dataclasses import dataclass, field

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from kernel.errors import ValidationFailed
from regions.models import Jurisdiction

SIMPLIFY_TOLERANCE = 0.01  # degrees, for the display outline
LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}


@dataclass
class ImportResult:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)


def _multipolygon(geometry_json):
    try:
        geometry = GEOSGeometry(json.dumps(geometry_json), srid=4326)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise ValidationFailed(f"unreadable geometry: {exc}") from exc
    if geometry.geom_type == "Polygon":
        geometry = MultiPolygon(geometry, srid=4326)
    if geometry.geom_type != "MultiPolygon":
        raise ValidationFailed(f"expected (Multi)Polygon, got {geometry.geom_type}")
    if not geometry.valid:
        geometry = geometry.buffer(0)
        if geometry.geom_type == "Polygon":
            geometry = MultiPolygon(geometry, srid=4326)
    return geometry


def import_boundaries(data) -> ImportResult:
    """Create or update every feature's jurisdiction in one transaction; any bad feature changes nothing
    (ValidationFailed)."""
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise ValidationFailed("expected a GeoJSON FeatureCollection")
    features = sorted(data.get("features", []), key=lambda f: LEVEL_ORDER.get(f["properties"].get("level"), 9))
    result = ImportResult()
    with transaction.atomic():
        by_code = {j.code: j for j in Jurisdiction.objects.all()}
        for feature in features:
            props = feature["properties"]
            code = str(props["code"])
            boundary = _multipolygon(feature["geometry"]) if feature.get("geometry") else None
            simplified = boundary.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True) if boundary else None
            if simplified is not None and simplified.geom_type == "Polygon":
                simplified = MultiPolygon(simplified, srid=4326)
            values = {
                "name_zh": props["name_zh"], "name_en": props["name_en"], "level": props["level"],
                "parent": by_code.get(props.get("parent_code")) if props.get("parent_code") else None,
            }
            existing = by_code.get(code)
            if existing is None:
                jurisdiction = Jurisdiction(code=code, **values)
                result.created.append(code)
            else:
                jurisdiction = existing
                changed = any(getattr(existing, k) != v for k, v in values.items()) or (
                    boundary is not None and (existing.boundary is None or not existing.boundary.equals_exact(
                        boundary, 1e-9)))
                (result.updated if changed else result.unchanged).append(code)
                if not changed:
                    continue
                for key, value in values.items():
                    setattr(jurisdiction, key, value)
            if boundary is not None:
                jurisdiction.boundary = boundary
                jurisdiction.boundary_simplified = simplified
                jurisdiction.centroid = boundary.point_on_surface
            try:
                jurisdiction.full_clean(exclude=["parent", "boundary", "boundary_simplified", "centroid"])
            except DjangoValidationError as exc:
                raise ValidationFailed(f"feature {code}: {exc.message_dict}", field="code") from exc
            jurisdiction.save()
            by_code[code] = jurisdiction
    return result
