"""Changing which level of jurisdiction settles compensation in a region (区域利益补偿机制): a new
`SettlingLevel` row effective from a future date. The level in force today and earlier levels are never
changed, so postings already made keep the accounts they were posted to; a level not yet in force may be
set again (the row for that date is replaced, audited). Regional coordinator only."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit
from kernel.errors import ValidationFailed
from regions.models import Jurisdiction, SettlingLevel
from regions.permissions import require
from regions.scope import Scope
from regions.settling import settling_level


def check_change(level, effective_from):
    """The rules of a change, before anything is written (also run by the admin form)."""
    if level not in Jurisdiction.Level.values:
        raise ValidationFailed(_("Choose province, prefecture city or county."), field="level")
    if effective_from <= timezone.localdate():
        raise ValidationFailed(_("A new settling level takes effect from tomorrow at the earliest; postings "
                                 "already made are never rewritten."), field="effective_from")


@transaction.atomic
def set_settling_level(user, region, *, level, effective_from):
    require(user, "settling.change", Scope(region_id=region.pk))
    check_change(level, effective_from)
    before = settling_level(region, effective_from)
    existing = SettlingLevel.objects.select_for_update().filter(region=region, effective_from=effective_from).first()
    if existing is not None:
        existing.level = level
        existing.save(update_fields=["level"])
        row = existing
    else:
        row = SettlingLevel.objects.create(region=region, level=level, effective_from=effective_from)
    audit.record(user, "settling_level.set", row, before={"level": before, "replaced": existing is not None},
                 after={"level": level, "effective_from": effective_from}, region=region)
    return row
