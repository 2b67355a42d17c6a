"""Bounds on every value a client can send: the one home of the checks, and the one way to apply them.

Each bound is declared once, on the model field that stores the value: `max_length`, `max_digits` /
`decimal_places`, the field's type (a point field takes a Point) and its `validators` (e.g.
`MaxValueValidator(MAX_QUANTITY)` on `Asset.quantity`, a minimum acquisition date on `Asset.acquired_on`).
`check(Model, "field", v)` applies a field's bounds for a service, a form or an import row (a typed,
translated `ValidationFailed` naming the field); the pre_save guard (`check_instance`) applies the same to
every project model about to be saved, so no door (admin, a command, a forgotten service) writes an
out-of-bounds value. Checked before the database, so SQLite (which would store most of these values) and
PostgreSQL (which would fail with an untyped error) refuse the same values the same way:

- text: a `str` within the field's `max_length` (`TEXT_MAX` for unbounded text), without NUL or other C0
  control characters except newline and tab (and no lone surrogates);
- decimals: finite, within the field's digits and decimal places (no `1e400`, no `NaN`); a client's excess
  decimals are refused (`check`), a computed value is rounded half-up to the field's places (the guard);
- integers: within the range every supported database stores for the field's type;
- geometries: of the field's type, finite coordinates, longitude −180…180 and latitude −90…90;
  `point_in_region` adds the region's bounding box and the agency's jurisdiction;
- the field's validators (minimum/maximum values, dates), with their own messages.

`check_inputs` walks every GraphQL mutation input (nested lists and objects included) for what no field
may hold (control characters, non-finite numbers, strings past `INPUT_TEXT_MAX`). Rules that depend on
the moment rather than the stored value (a needed-by date not in the past) stay in their services.
"""
import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.signals import pre_save
from django.utils.translation import gettext as _

from kernel.errors import ValidationFailed

TEXT_MAX = 10_000  # unbounded TextFields (justifications, reasons)
INPUT_TEXT_MAX = 8 * 1024 * 1024  # one string of a mutation input (a base64 photo); the body limit is lower
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges  # PostgreSQL's ranges; SQLite stores any int64


def _bad_character(value):
    found = FORBIDDEN.search(value)
    return ord(found.group()) if found else None


def text(value, field, max_length=TEXT_MAX):
    """A string within `max_length` characters without control characters other than newline and tab."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(_("Must be text."), field=field)
    if len(value) > max_length:
        raise ValidationFailed(_("At most %(max)d characters (got %(n)d).") % {"max": max_length, "n": len(value)},
                               field=field, code="limit_exceeded")
    code = _bad_character(value)
    if code is not None:
        raise ValidationFailed(_("Control character U+%(code)04X is not allowed (only newline and tab).")
                               % {"code": code}, field=field)
    return value


def label(value, max_length):
    """A client-sent name kept only as a label: control characters dropped, cut to `max_length`."""
    kept = FORBIDDEN.sub("", str(value or ""))
    return kept[:max_length]


def decimal(value, field, max_digits, decimal_places, round_excess=False):
    """A finite Decimal with at most `decimal_places` decimals and `max_digits` digits in all. Excess
    decimals are refused (a client's amount or area), or rounded half-up with `round_excess` (a value the
    system computed, e.g. an allocation share, stored at the field's precision)."""
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationFailed(_("Must be a decimal number."), field=field) from exc
    if not number.is_finite():
        raise ValidationFailed(_("Must be a finite decimal number."), field=field)
    quantum = Decimal(1).scaleb(-decimal_places)
    if not round_excess and number.as_tuple().exponent < -decimal_places and number != number.quantize(quantum):
        raise ValidationFailed(_("At most %(places)d decimal places.") % {"places": decimal_places}, field=field)
    whole_digits = max(number.adjusted() + 1, 0)
    if whole_digits > max_digits - decimal_places:
        raise ValidationFailed(
            _("At most %(digits)d digits before the decimal point.") % {"digits": max_digits - decimal_places},
            field=field, code="limit_exceeded")
    return number.quantize(quantum, ROUND_HALF_UP)


def integer(value, field, internal_type="IntegerField"):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(_("Must be a whole number."), field=field)
    low, high = INTEGER_RANGES.get(internal_type, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationFailed(_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high},
                               field=field, code="limit_exceeded")
    return value


def geometry(value, field, geom_type=None):
    """A geometry of `geom_type` (e.g. "Point") with finite WGS84 coordinates."""
    if value is None:
        return None
    if not isinstance(value, GEOSGeometry):
        raise ValidationFailed(_("Must be a GeoJSON geometry."), field=field)
    if geom_type and geom_type.upper() != "GEOMETRY" and value.geom_type.upper() != geom_type.upper():
        raise ValidationFailed(_("Must be a %(expected)s (got %(got)s).") % {"expected": geom_type,
                                                                             "got": value.geom_type}, field=field)
    if value.empty:
        raise ValidationFailed(_("The geometry is empty."), field=field)
    xmin, ymin, xmax, ymax = value.extent
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise ValidationFailed(_("Coordinates must be finite numbers."), field=field)
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise ValidationFailed(_("Coordinates are longitude −180…180 and latitude −90…90 (WGS 84)."), field=field)
    return value


def point_in_region(point, field, *, jurisdiction, region_extent=None, override_reason=""):
    """`point` inside the region's bounding box, and inside the jurisdiction's boundary unless the caller
    gives a reason (an agency's store may lie just across a border). Returns the reason kept ("" if none)."""
    geometry(point, field, "Point")
    if region_extent is not None:
        xmin, ymin, xmax, ymax = region_extent
        if not (xmin <= point.x <= xmax and ymin <= point.y <= ymax):
            raise ValidationFailed(_("The location lies outside the region's bounding box (%(box)s).")
                                   % {"box": ", ".join(f"{v:.2f}" for v in region_extent)}, field=field)
    reason = (text(override_reason, "location_override_reason", 300) or "").strip()
    boundary = getattr(jurisdiction, "boundary", None)
    if boundary is not None and not boundary.covers(point) and not reason:
        raise ValidationFailed(_("The location lies outside %(name)s; give a reason to record it "
                                 "anyway.") % {"name": jurisdiction.name_zh}, field=field)
    return reason if boundary is not None and not boundary.covers(point) else ""


LIMIT_CODES = {"max_value", "max_length", "max_digits", "max_whole_digits"}  # Django validators' codes


def _validated(field, value, name):
    """Run the model field's validators (declared bounds such as a maximum quantity or an earliest date)."""
    try:
        if isinstance(value, str) and not isinstance(field, models.CharField | models.TextField):
            value = field.to_python(value)  # e.g. a date given as ISO text
        field.run_validators(value)
    except DjangoValidationError as exc:
        error = exc.error_list[0]
        message = error.message % error.params if error.params else error.message
        raise ValidationFailed(message, field=name,
                               code="limit_exceeded" if error.code in LIMIT_CODES else "invalid") from exc
    return value


def field_value(field, value, name=None, *, strict=False):
    """Check one model field's value (see the module docstring); returns the value to store. With
    `strict`, excess decimals are refused (a client's input); without, rounded to the field's places."""
    name = name or field.name
    if value is None:
        return None
    if isinstance(field, gis_models.GeometryField):
        value = geometry(value, name, field.geom_type)
    elif isinstance(field, models.DecimalField):
        value = decimal(value, name, field.max_digits, field.decimal_places, round_excess=not strict)
    elif isinstance(field, models.CharField | models.TextField):
        if not isinstance(value, str):
            return value  # Django coerces (e.g. a code to str); nothing a client controls
        value = text(value, name, field.max_length or TEXT_MAX)
    elif isinstance(field, models.IntegerField) and not isinstance(field, models.AutoField):
        value = integer(value, name, field.get_internal_type())
    elif isinstance(field, models.JSONField):
        check_inputs(value, (name,), TEXT_MAX)
        return value
    return _validated(field, value, name)


def check(model, field_name, value, field=None):
    """`value` for `model.field_name`, checked against everything that field declares (a client's input:
    strict). `field` names it in the error (default: the field's own name; the GraphQL layer camelizes it)."""
    return field_value(model._meta.get_field(field_name), value, field or field_name, strict=True)


def check_instance(instance):
    """Check every concrete, editable field of a model instance about to be saved."""
    for field in instance._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.ForeignKey):
            continue
        value = getattr(instance, field.attname)
        checked = field_value(field, value)
        if checked is not value and isinstance(field, models.DecimalField):
            setattr(instance, field.attname, checked)


def check_inputs(data, path=(), max_length=INPUT_TEXT_MAX):
    """Walk a mutation's input (dicts, lists, scalars): text without control characters and at most
    `max_length` characters, finite decimals and floats, well-formed geometries. Model-specific bounds
    (max_length, digits, geometry type) apply when the values are saved (`check_instance`). A refusal
    inside a nested input carries its path (`details`), named by the input's own keys."""
    if isinstance(data, dict):
        for key, value in data.items():
            check_inputs(value, (*path, str(key)), max_length)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            check_inputs(value, (*path, str(index)), max_length)
    else:
        names = [part for part in path if not part.isdigit()]
        try:
            _check_scalar(data, names[-1] if names else None, max_length)
        except ValidationFailed as exc:
            if len(path) < 2:
                raise
            raise ValidationFailed(exc.message, field=exc.field, code=exc.code, details=[
                {"code": exc.code, "message": exc.message, "field": exc.field, "path": list(path)}]) from exc


def _check_scalar(data, field, max_length):
    if isinstance(data, str):
        text(data, field, max_length)
    elif isinstance(data, Decimal):
        if not data.is_finite() or abs(data.adjusted()) > 30:
            raise ValidationFailed(_("Must be a finite decimal number of reasonable size."), field=field)
    elif isinstance(data, float):
        if not math.isfinite(data):
            raise ValidationFailed(_("Must be a finite number."), field=field)
    elif isinstance(data, GEOSGeometry):
        geometry(data, field)


@functools.cache
def _is_project_model(model):
    if model._meta.app_config is None:  # a historical model (a data migration)
        return False
    path = Path(model._meta.app_config.path)
    return Path(settings.BASE_DIR) in path.parents and ".venv" not in path.parts


def check_before_save(sender, instance, raw=False, **kwargs):
    """pre_save receiver for the project's own models (not Django's or libraries'; fixtures loaded raw are
    trusted)."""
    if not raw and _is_project_model(sender):
        check_instance(instance)


def connect():
    pre_save.connect(check_before_save, dispatch_uid="kernel.bounds.check_before_save")
