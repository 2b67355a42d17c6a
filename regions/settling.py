"""Who settles compensation in a region on a date (区域利益补偿机制): the region's settling level
(`SettlingLevel`, effective-dated; YRD demo: prefecture cities) applied to the jurisdiction tree, with
membership as `regions.membership` says (one predicate for every use)."""
from datetime import date

from django.db.models import Subquery

from kernel.compiled import Compiled
from regions.membership import ancestors, descendants, in_force, members
from regions.models import Jurisdiction, Membership, SettlingLevel
from regions.reference import JURISDICTIONS

LEVEL_RANK = {"province": 0, "city": 1, "county": 2}


def _level_in_force(region, on):
    return SettlingLevel.objects.filter(region=region, effective_from__lte=on).order_by("-effective_from")


# The region's members on a day, each row with the settling level in force that day (posting's hot query).
_MEMBERS_AND_LEVEL = Compiled(
    lambda region_id, on: Membership.objects.filter(in_force(on), region_id=region_id).annotate(
        level=Subquery(_level_in_force(region_id, on).values("level")[:1])).values_list("jurisdiction_id", "level"),
    stand_ins=(-7_140_011, date(1901, 2, 3)), others=(-7_140_012, date(1902, 3, 4)))


def settling_level(region, on):
    """The region's settling level on `on` (province/city/county), or None: then members settle themselves."""
    return _level_in_force(region, on).values_list("level", flat=True).first()


def _chain(jurisdiction):
    """The jurisdiction and its ancestors, nearest first (three levels at most)."""
    chain = [jurisdiction]
    while chain[-1].parent_id:
        chain.append(Jurisdiction.objects.get(pk=chain[-1].parent_id))
    return chain


def _settler(chain, member_ids, level):
    """The settling jurisdiction of a chain (self first): the nearest jurisdiction at or above the settling
    level, never above the member it belongs to; None outside the region."""
    inside = next((i for i, j in enumerate(chain) if j.pk in member_ids), None)
    if inside is None:
        return None
    if level is None:
        return chain[inside]
    return next((j for j in chain[:inside + 1] if LEVEL_RANK[j.level] <= LEVEL_RANK[level]), chain[inside])


def settling_jurisdiction(region, jurisdiction, on):
    """Which jurisdiction settles compensation for `jurisdiction` in `region` on `on` (None when it does not
    belong to the region that day). YRD demo: the prefecture city (Suzhou for an agency of a Suzhou
    district); a province-level municipality such as Shanghai settles itself."""
    return _settler(_chain(jurisdiction), members([region.pk], on), settling_level(region, on))


def _cached_chain(jurisdiction):
    """`_chain` from the per-process cache of the jurisdiction tree (regions.reference)."""
    chain = [jurisdiction]
    while chain[-1].parent_id:
        parent = chain[-1].parent_id
        chain.append(JURISDICTIONS.get_many([parent])[parent])
    return chain


def settlers_on(region, jurisdictions, on):
    """{jurisdiction id: `settling_jurisdiction`} for several jurisdictions on one day: the region's members
    and its settling level in one query, compiled once per process (no member: nobody settles, whatever the
    level), the tree from the per-process cache."""
    return settlers_from(_MEMBERS_AND_LEVEL.rows(region.pk, on), jurisdictions)


def settlers_query(region, on):
    """(SQL, params) of `settlers_on`'s query, for a caller that sends it with other statements; then
    `settlers_from` its rows."""
    return _MEMBERS_AND_LEVEL.statement(region.pk, on)


def settlers_from(rows, jurisdictions):
    """`settlers_on` from the rows of its query (`settlers_query`)."""
    rows = _MEMBERS_AND_LEVEL.convert(rows)
    member_ids, level = frozenset(m for m, _ in rows), rows[0][1] if rows else None
    return {j.pk: _settler(_cached_chain(j), member_ids, level) for j in jurisdictions}


def settling_jurisdictions(region, on):
    """All jurisdictions that settle in the region on `on` (each member's subtree mapped to its settlers)."""
    member_ids = members([region.pk], on)
    level = settling_level(region, on)
    inside = descendants(member_ids)
    by_id = {j.pk: j for j in Jurisdiction.objects.filter(pk__in=ancestors(inside)).defer(
        "boundary", "boundary_simplified")}
    settlers = {}
    for pk in inside:
        chain = [by_id[pk]]
        while chain[-1].parent_id:
            chain.append(by_id[chain[-1].parent_id])
        found = _settler(chain, member_ids, level)
        settlers[found.pk] = found
    return sorted(settlers.values(), key=lambda j: j.code)
