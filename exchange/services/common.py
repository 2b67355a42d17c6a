"""Helpers shared by the exchange services: locking, region membership, messages."""
from django.db import connection
from django.utils import translation

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
            raise ValidationFailed("The jurisdiction is not a member of that region.", field="regionId")
        return region_id
    if not regions:
        raise NotFound("The jurisdiction is not a member of any region.", field="agencyId")
    return regions[0]


def pick_message(breach):
    """The breach message in the active language (zh-Hans by default)."""
    return breach.message_en if (translation.get_language() or "zh").startswith("en") else breach.message_zh


def require_text(value, field, message):
    if not (value or "").strip():
        raise ValidationFailed(message, field=field, code="required")
    return value.strip()
