"""Ending an office-space occupancy (办公用房调剂使用结束): either side's agency or bureau, or the regional
coordinator, records the last day of use; the space goes back to its owner (idle) and the ledger posts the
rent-equivalent of every month of use not yet posted, the last one prorated to that day."""
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Occupancy, OfficeSpace
from exchange.services.common import locked
from exchange.signals import occupancy_ended
from kernel import audit
from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from regions.permissions import Scope, require


def _require_either_side(user, occupancy):
    owner = occupancy.office_space.agency
    for scope in (Scope(region_id=occupancy.transfer.region_id, jurisdiction_id=occupancy.occupant.jurisdiction_id,
                        agency_id=occupancy.occupant_id),
                  Scope(region_id=occupancy.transfer.region_id, jurisdiction_id=owner.jurisdiction_id,
                        agency_id=owner.pk)):
        try:
            return require(user, "occupancy.end", scope)
        except PermissionDenied:
            continue
    raise PermissionDenied(field="occupancy_id")


@transaction.atomic
def end_occupancy(user, occupancy, *, last_day: date):
    """End the occupancy with `last_day` as its last day of use (inclusive; not before it started, not after
    its `availableTo`, not in the future)."""
    occupancy = locked(Occupancy.objects.select_related("office_space__agency", "occupant", "transfer")).get(
        pk=occupancy.pk)
    _require_either_side(user, occupancy)
    if occupancy.ended_on is not None:
        raise InvalidState(_("The occupancy has already ended."), field="occupancy_id")
    if last_day is None or last_day < occupancy.starts_on:
        raise ValidationFailed(_("The last day cannot be before the occupancy started (%(start)s).")
                               % {"start": occupancy.starts_on.isoformat()}, field="last_day")
    if occupancy.ends_on is not None and last_day > occupancy.ends_on:
        raise ValidationFailed(_("The space is available only until %(end)s.") % {"end": occupancy.ends_on.isoformat()},
                               field="last_day")
    if last_day > timezone.localdate():
        raise ValidationFailed(_("The last day of use cannot be in the future."), field="last_day")
    Occupancy.objects.filter(pk=occupancy.pk).update(ended_on=last_day, ended_by=user)
    OfficeSpace.objects.filter(pk=occupancy.office_space_id).update(status=OfficeSpace.Status.IDLE)
    occupancy.refresh_from_db()
    audit.record(user, "occupancy.ended", occupancy, before={"ended_on": None}, after={"ended_on": last_day},
                 transfer=occupancy.transfer, region=occupancy.transfer.region,
                 jurisdiction=occupancy.occupant.jurisdiction)
    occupancy_ended.send(sender=Occupancy, occupancy=occupancy, user=user)
    return occupancy
