"""Who belongs to a region on a date: the jurisdiction tree (province → city → county) and effective-dated
memberships. A membership is in force on `on` from `joined_on` to `left_on`, both days included; a
jurisdiction belongs to a region when it or one of its ancestors is a member. Permissions, posting,
reports and settlement all ask here."""
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from regions.models import Jurisdiction, Membership


def in_force(on=None, prefix=""):
    """Q of the memberships in force on `on` (default today); `prefix` reaches them through a relation,
    as in `in_force(on, "memberships__")` on jurisdictions."""
    on = on or timezone.localdate()
    return (Q(**{f"{prefix}joined_on__lte": on})
            & (Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gte": on})))


def _tree_walk(jurisdiction_ids, downwards):
    """The jurisdictions and all their descendants (or ancestors) in one recursive query."""
    ids = sorted({int(i) for i in jurisdiction_ids})
    if not ids:
        return frozenset()
    table = connection.ops.quote_name(Jurisdiction._meta.db_table)
    step = "j.parent_id = t.id" if downwards else "j.id = t.parent_id"
    seeds = ",".join(["(%s)"] * len(ids))
    sql = (f"WITH RECURSIVE seed(id) AS (VALUES {seeds}), "
           f"t(id, parent_id) AS (SELECT j.id, j.parent_id FROM {table} j JOIN seed ON j.id = seed.id "
           f"UNION SELECT j.id, j.parent_id FROM {table} j JOIN t ON {step}) SELECT id FROM t")
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        return frozenset(row[0] for row in cursor.fetchall()) | frozenset(ids)


def descendants(jurisdiction_ids):
    """The jurisdictions and all their descendants (one query)."""
    return _tree_walk(jurisdiction_ids, downwards=True)


def ancestors(jurisdiction_ids):
    """The jurisdictions and all their ancestors (one query)."""
    return _tree_walk(jurisdiction_ids, downwards=False)


def members(region_ids, on=None):
    """Ids of the jurisdictions that are members of the regions on `on` (not their descendants)."""
    return frozenset(Membership.objects.filter(in_force(on), region_id__in=region_ids)
                     .values_list("jurisdiction_id", flat=True))


def region_jurisdictions(region_ids, on=None):
    """Every jurisdiction that belongs to the regions on `on`: the members and their descendants."""
    return descendants(members(region_ids, on)) if region_ids else frozenset()


def regions_of(jurisdiction_ids, on=None):
    """Ids of the regions the jurisdictions (or one of their ancestors) belong to on `on`, by region code."""
    return list(Membership.objects.filter(in_force(on), jurisdiction_id__in=ancestors(jurisdiction_ids))
                .order_by("region__code").values_list("region_id", flat=True).distinct())


def member_of(region, jurisdiction, on=None):
    """The jurisdiction itself or its nearest ancestor that is a member of the region on `on` (the settling
    party); the jurisdiction itself when none is."""
    chain = ancestors([jurisdiction.pk])
    member_ids = set(Membership.objects.filter(in_force(on), region=region, jurisdiction_id__in=chain)
                     .values_list("jurisdiction_id", flat=True))
    current = jurisdiction
    while current is not None:
        if current.pk in member_ids:
            return current
        current = current.parent
    return jurisdiction
