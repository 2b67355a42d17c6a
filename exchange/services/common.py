"""Helpers shared by the exchange services: locking, region membership, messages."""
from django.db import connection
from django.utils import timezone, translation

from kernel.errors import NotFound, ValidationFailed
from regions.models import Jurisdiction, Membership


def locked(queryset):
    """SELECT ... FOR NO KEY UPDATE on PostgreSQL (does not block inserts referencing the row);
    SQLite serializes writers itself."""
    return queryset.select_for_update(no_key=True, of=("self",)) if connection.vendor == "postgresql" else queryset


def ancestry(jurisdiction):
    """The jurisdiction's id and those of its ancestors (at most three levels)."""
    ids, current = [], jurisdiction
    while current is not None:
        ids.append(current.pk)
        current = Jurisdiction.objects.filter(pk=current.parent_id).first() if current.parent_id else None
    return ids


def regions_of(jurisdiction, on=None):
    """Ids of the regions the jurisdiction (or one of its ancestors) is a member of on `on`."""
    on = on or timezone.localdate()
    members = Membership.objects.filter(jurisdiction_id__in=ancestry(jurisdiction), joined_on__lte=on)
    members = members.exclude(left_on__isnull=False, left_on__lt=on)
    return list(members.order_by("region__code").values_list("region_id", flat=True).distinct())


def region_for(jurisdiction, region_id=None):
    regions = regions_of(jurisdiction)
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
