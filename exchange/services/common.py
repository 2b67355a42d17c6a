"""Helpers shared by the exchange services: locking, region membership, messages, input bounds."""
from datetime import date

from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kernel.errors import NotFound, ValidationFailed
from regions.membership import regions_of


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


def pick_message(breach):
    """The breach message in the active language (zh-Hans by default)."""
    return breach.message_en if (translation.get_language() or "zh").startswith("en") else breach.message_zh


MAX_QUANTITY = 10_000  # units per asset record or request
MAX_TEXT = 2_000  # characters of a justification or reason
EARLIEST_ACQUISITION = date(1950, 1, 1)


def check_length(value, field, limit=MAX_TEXT):
    if value and len(value) > limit:
        raise ValidationFailed(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return value


def check_acquired_on(day, field="acquired_on"):
    if day > _today():
        raise ValidationFailed(_("The acquisition date cannot be in the future."), field=field)
    if day < EARLIEST_ACQUISITION:
        raise ValidationFailed(_("The acquisition date cannot be before %(d)s.") % {"d": EARLIEST_ACQUISITION},
                               field=field)
    return day


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
