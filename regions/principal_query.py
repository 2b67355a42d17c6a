"""A user's role bindings and every jurisdiction set the permission layer derives from them, in one SQL
query (recursive CTEs walk the jurisdiction tree down from bureau roots and region members, and up from a
principal's own jurisdictions to the regions they belong to). Same rules as `RoleBinding.objects.active()`
and `regions.membership` (`in_force`, `descendants`, `region_jurisdictions`, `regions_of`), which tests
compare it with; portable SQL (SQLite and PostgreSQL both run `WITH RECURSIVE`)."""
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from .models import Agency, Jurisdiction, Membership, Role, RoleBinding


@dataclass
class Facts:
    bindings: list = field(default_factory=list)  # (role, region_id, jurisdiction_id, agency_id, agency's jurisdiction)
    bureau: set = field(default_factory=set)  # bureau manager and deputy roots and their descendants
    managed: set = field(default_factory=set)  # full bureau manager roots and their descendants
    coordinator: set = field(default_factory=set)  # members of coordinator regions and their descendants
    auditor: set = field(default_factory=set)  # members of auditor regions and their descendants
    member_regions: set = field(default_factory=set)  # regions of the bureau roots and staff agencies


def _sql():
    q = connection.ops.quote_name
    rb, ag, j, m = (q(model._meta.db_table) for model in (RoleBinding, Agency, Jurisdiction, Membership))
    in_force = "m.joined_on <= %s AND (m.left_on IS NULL OR m.left_on >= %s)"
    return f"""
WITH RECURSIVE
b(role, region_id, jurisdiction_id, agency_id, agency_jurisdiction_id) AS (
  SELECT rb.role, rb.region_id, rb.jurisdiction_id, rb.agency_id, ag.jurisdiction_id
  FROM {rb} rb LEFT JOIN {ag} ag ON ag.id = rb.agency_id
  WHERE rb.user_id = %s AND rb.revoked_at IS NULL AND (rb.ends_on IS NULL OR rb.ends_on >= %s)),
seed(tag, id) AS (
  SELECT 'bureau', jurisdiction_id FROM b WHERE role IN (%s, %s)
  UNION ALL SELECT 'managed', jurisdiction_id FROM b WHERE role = %s
  UNION ALL SELECT CASE WHEN b.role = %s THEN 'coordinator' ELSE 'auditor' END, m.jurisdiction_id
    FROM {m} m JOIN b ON b.region_id = m.region_id WHERE b.role IN (%s, %s) AND {in_force}),
down(tag, id) AS (
  SELECT tag, id FROM seed
  UNION SELECT down.tag, j.id FROM {j} j JOIN down ON j.parent_id = down.id),
own(id) AS (
  SELECT jurisdiction_id FROM b WHERE role IN (%s, %s)
  UNION SELECT agency_jurisdiction_id FROM b WHERE agency_id IS NOT NULL),
up(id) AS (
  SELECT id FROM own
  UNION SELECT j.parent_id FROM {j} j JOIN up ON j.id = up.id WHERE j.parent_id IS NOT NULL)
SELECT 'binding', role, region_id, jurisdiction_id, agency_id, agency_jurisdiction_id FROM b
UNION ALL SELECT tag, NULL, id, NULL, NULL, NULL FROM down
UNION ALL SELECT 'member_region', NULL, m.region_id, NULL, NULL, NULL FROM {m} m
  WHERE m.jurisdiction_id IN (SELECT id FROM up) AND {in_force}"""


def principal_facts(user_id, on=None):
    """The user's active bindings and derived jurisdiction and region sets on `on` (today), one query."""
    on = connection.ops.adapt_datefield_value(on or timezone.localdate())
    managers = (Role.BUREAU_MANAGER, Role.DEPUTY_BUREAU_MANAGER)
    params = [user_id, on, *managers, Role.BUREAU_MANAGER, Role.COORDINATOR, Role.COORDINATOR, Role.AUDITOR,
              on, on, *managers, on, on]
    facts = Facts()
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [str(p) if isinstance(p, Role) else p for p in params])
        for tag, role, a, b, c, d in cursor.fetchall():
            if tag == "binding":
                facts.bindings.append((role, a, b, c, d))
            elif tag == "member_region":
                facts.member_regions.add(a)
            else:
                getattr(facts, tag).add(a)
    return facts
