"""Helpers shared by the exchange services: locking, region membership, messages, the needed-by rule (bounds on
stored values are declared on the model fields and applied by kernel.bounds)."""
from django.contrib.gis.db.models import Extent
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kernel.errors import NotFound, ValidationFailed
from regions.membership import members, regions_of
from regions.models import Jurisdiction


def locked(queryset):
    """SELECT ... FOR NO KEY UPDATE on PostgreSQL (does not block inserts referencing the row);
    SQLite serializes writers itself."""
    return queryset.select_for_update(no_key=True, of=("self",)) if connection.vendor == "postgresql" else queryset


def region_for(jurisdiction, region_id=None):
    """The region a listing of the jurisdiction goes to: `region_id` if it belongs to it today, else its
    first region by code."""
    regions = regions_of([jurisdiction.pk])
    if region_id is not None:
        if region_id not in regions:
            raise ValidationFailed(_("The jurisdiction is not a member of that region."), field="region_id")
        return region_id
    if not regions:
        raise NotFound(_("The jurisdiction is not a member of any region."), field="agency_id")
    return regions[0]


def region_extent(jurisdiction, on=None):
    """(xmin, ymin, xmax, ymax) of the boundaries of every region the jurisdiction belongs to, or None
    when the members have no boundaries."""
    region_ids = regions_of([jurisdiction.pk], on)
    if not region_ids:
        return None
    return Jurisdiction.objects.filter(pk__in=members(region_ids, on)).aggregate(
        box=Extent("boundary_simplified"))["box"]


def pick_message(breach):
    """The breach message in the active language (zh-Hans by default)."""
    return breach.message_en if (translation.get_language() or "zh").startswith("en") else breach.message_zh


def check_needed_by(day, field="needed_by"):
    if day is not None and day < _today():
        raise ValidationFailed(_("The needed-by date cannot be in the past."), field=field)
    return day


def _today():
    return timezone.localdate()


def require_text(value, field, message):
    if not (value or "").strip():
        raise ValidationFailed(message, field=field, code="required")
    return value.strip()
