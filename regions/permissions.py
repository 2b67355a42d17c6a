"""The one permission layer: `restrict(queryset, user, action)` for reads, `require(user, action, obj)`
for writes. Every selector and service calls these; resolvers and views never decide access.

A user's role bindings are resolved once into a `Principal` (cached on the user object):
coordinators and auditors see every jurisdiction that is a member of their regions, bureau managers
(and their deputies) their jurisdiction and its descendants, agency staff their agency. Only bindings in
force count: revoked ones and those past their end date are ignored. An API token acts as a bureau
manager of its jurisdiction, read-only unless it has the write scope, and only while its creator is
active and still holds a bureau role covering that jurisdiction (checked each time the token authenticates).
"""
from dataclasses import dataclass, field, fields

from django.db.models import Q
from django.utils.translation import gettext as _

from kernel.errors import NotAuthenticated, PermissionDenied

from .membership import descendants, regions_of
from .models import Role
from .principal_query import principal_facts
from .scope import Scope

WRITE_RULES: dict[str, frozenset[str]] = {
    # action -> roles allowed (each only within its scope). Auditors never write.
    "agency.manage": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER}),
    "asset.register": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "listing.open": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "listing.withdraw": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "request.create": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "request.withdraw": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "allocation.run": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER}),
    "approval.decide": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER}),
    "transfer.cancel": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "handover.confirm": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "occupancy.end": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "standards.edit": frozenset({Role.COORDINATOR}),
    "token.manage": frozenset({Role.BUREAU_MANAGER}),
    "period.close": frozenset({Role.COORDINATOR}),
    "settling.change": frozenset({Role.COORDINATOR}),
    "payment.confirm": frozenset({Role.COORDINATOR}),
    "report.request": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER, Role.AUDITOR, Role.AGENCY_STAFF}),
    "import.run": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "emergency.stop": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER}),
    "evaluation.freeze": frozenset({Role.COORDINATOR}),
    "evaluation.publish": frozenset({Role.COORDINATOR}),
    "evaluator.grant": frozenset({Role.COORDINATOR}),
    "objection.file": frozenset({Role.BUREAU_MANAGER}),
    "objection.decide": frozenset({Role.COORDINATOR}),
    "disposal.propose": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "disposal.decide": frozenset({Role.BUREAU_MANAGER}),
    "disposal.complete": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "want.record": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "purchase.check": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "purchase.exception": frozenset({Role.COORDINATOR}),
    "loan.offer": frozenset({Role.BUREAU_MANAGER, Role.AGENCY_STAFF}),
    "webhook.manage": frozenset({Role.BUREAU_MANAGER}),
    # reads that need a role (not only visibility): allowed to read-only tokens
    "report.download": frozenset({Role.COORDINATOR, Role.BUREAU_MANAGER, Role.AUDITOR, Role.AGENCY_STAFF}),
}
READ_ACTIONS = frozenset({"report.download"})  # every other action writes (or starts a job that writes)


@dataclass
class Principal:
    user_id: int | None
    token: object | None = None
    can_write: bool = True
    coordinator_regions: frozenset = frozenset()
    auditor_regions: frozenset = frozenset()
    bureau_jurisdictions: frozenset = frozenset()
    staff_agencies: frozenset = frozenset()
    staff_agency_jurisdictions: frozenset = frozenset()
    manager_roots: frozenset = frozenset()  # jurisdictions of full (not deputy) bureau manager bindings
    manager_jurisdictions: frozenset = frozenset()  # those and their descendants
    coordinator_jurisdictions: frozenset = frozenset()  # members of coordinator regions
    auditor_jurisdictions: frozenset = frozenset()  # members of auditor regions
    member_regions: frozenset = frozenset()  # regions of any of the principal's jurisdictions
    roles: frozenset = field(default_factory=frozenset)

    @property
    def regions(self):
        return self.coordinator_regions | self.auditor_regions | self.member_regions

    @property
    def region_jurisdictions(self):
        return self.coordinator_jurisdictions | self.auditor_jurisdictions

    @property
    def readable_jurisdictions(self):
        return self.region_jurisdictions | self.bureau_jurisdictions

    def has_role(self, role):
        return role in self.roles


def scope_key(principal):
    """What the permission filters of a principal are made of (its sets and roles, not who it is), hashable:
    the key of statements compiled once per scope (kernel.prepared)."""
    return tuple((f.name, getattr(getattr(principal, f.name), "pk", getattr(principal, f.name)))
                 for f in fields(principal) if f.name != "user_id")


def principal_for_token(token):
    """The narrowed principal a token acts as: a bureau manager of its jurisdiction. Refused (NotAuthenticated)
    once its creator is deactivated or no longer holds a bureau manager or deputy role covering the token's
    jurisdiction: the token acts under that role, so it ends with it."""
    creator = token.created_by
    if not creator.is_active or token.jurisdiction_id not in _principal_of_bindings(creator).bureau_jurisdictions:
        raise NotAuthenticated(_("The API token no longer acts: its creator has been deactivated or no longer "
                                 "holds the role it acts under."))
    jurisdictions = descendants([token.jurisdiction_id])
    return Principal(
        user_id=token.created_by_id, token=token, can_write=token.can_write,
        bureau_jurisdictions=jurisdictions, roles=frozenset({Role.BUREAU_MANAGER}),
        member_regions=frozenset(regions_of([token.jurisdiction_id])),
    )


def get_principal(user):
    """The resolved principal of a user (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    cached = getattr(user, "_principal", None)
    if cached is not None:
        return cached
    user._principal = _principal_of_bindings(user)
    return user._principal


def _principal_of_bindings(user):
    """The principal of a user's role bindings in force (no token)."""
    facts = principal_facts(user.pk)  # one query: bindings and the jurisdiction sets derived from them
    by_role = {role: set() for role in Role.values}
    staff_jurisdictions = set()
    for role, region_id, jurisdiction_id, agency_id, agency_jurisdiction_id in facts.bindings:
        by_role[role].add(region_id or jurisdiction_id or agency_id)
        if agency_id:
            staff_jurisdictions.add(agency_jurisdiction_id)
    principal = Principal(
        user_id=user.pk,
        coordinator_regions=frozenset(by_role[Role.COORDINATOR]),
        auditor_regions=frozenset(by_role[Role.AUDITOR]),
        bureau_jurisdictions=frozenset(facts.bureau),
        manager_roots=frozenset(by_role[Role.BUREAU_MANAGER]),
        manager_jurisdictions=frozenset(facts.managed),
        staff_agencies=frozenset(by_role[Role.AGENCY_STAFF]),
        staff_agency_jurisdictions=frozenset(staff_jurisdictions),
        coordinator_jurisdictions=frozenset(facts.coordinator),
        auditor_jurisdictions=frozenset(facts.auditor),
        member_regions=frozenset(facts.member_regions),
        roles=frozenset(role for role, *_ in facts.bindings),
    )
    return principal


def _lookups(model, kind):
    value = getattr(model, "SCOPE_LOOKUPS", {}).get(kind, [])
    return [value] if isinstance(value, str) else list(value)


def visible_q(model, principal, action="view"):
    """The Q selecting the rows of `model` the principal may see (or act on). Models declare
    `SCOPE_LOOKUPS` with the ORM paths to their `region`, `jurisdiction` and `agency` ids, and may add
    `extra_visibility(principal)` (a Q) for data shared more widely or more narrowly, such as listings
    open to the whole region. Models may build on another model's rules with `visible_q(Other, principal)`
    (e.g. an asset is visible wherever a listing of it is)."""
    q = Q(pk__in=[])
    for path in _lookups(model, "region"):
        q |= Q(**{f"{path}__in": principal.regions if action == "view" else principal.coordinator_regions})
    for path in _lookups(model, "jurisdiction"):
        q |= Q(**{f"{path}__in": principal.readable_jurisdictions})
    for path in _lookups(model, "agency"):
        q |= Q(**{f"{path}__in": principal.staff_agencies})
    extra = getattr(model, "extra_visibility", None)
    if extra is not None and action == "view":
        q |= extra(principal)
    return q


def restrict(queryset, user, action="view"):
    """Limit a queryset to what the user may see. The result is marked as restricted for this principal
    (the mark survives further filtering), so the GraphQL base types do not apply the same filter twice."""
    principal = get_principal(user)
    if action == "view" and is_restricted(queryset, principal):
        return queryset
    model = queryset.model
    q = visible_q(model, principal, action)
    queryset = queryset.filter(q).distinct() if _needs_distinct(model) else queryset.filter(q)
    if action == "view":
        queryset.query.restricted_for = principal
    return queryset


def is_restricted(queryset, principal):
    """True when `queryset` already went through `restrict(…, "view")` for this principal."""
    return getattr(queryset.query, "restricted_for", None) is principal


def _needs_distinct(model):
    return getattr(model, "SCOPE_NEEDS_DISTINCT", False)


def allows(principal, action, scope: Scope):
    """True when one of the principal's roles allowed for `action` covers `scope`."""
    roles = WRITE_RULES.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    if not principal.can_write and action not in READ_ACTIONS:
        return False
    if Role.COORDINATOR in roles and (
        (scope.region_id is not None and scope.region_id in principal.coordinator_regions)
        or scope.jurisdiction_id in principal.coordinator_jurisdictions
    ):
        return True
    if Role.AUDITOR in roles and (
        (scope.region_id is not None and scope.region_id in principal.auditor_regions)
        or scope.jurisdiction_id in principal.auditor_jurisdictions
    ):
        return True
    if Role.BUREAU_MANAGER in roles and scope.jurisdiction_id in principal.bureau_jurisdictions:
        return True
    return Role.AGENCY_STAFF in roles and scope.agency_id is not None and scope.agency_id in principal.staff_agencies


def require(user, action, obj):
    """Raise PermissionDenied unless the user may do `action` on `obj` (a model with
    `permission_scope()`, or a Scope)."""
    principal = get_principal(user)
    scope = obj if isinstance(obj, Scope) else obj.permission_scope()
    if not allows(principal, action, scope):
        if not principal.can_write and action not in READ_ACTIONS:
            raise PermissionDenied(_("A read-only API token cannot change anything or start a job; use a token "
                                     "with the write scope."))
        raise PermissionDenied(field=None)
    return principal


REGION_ROLES = frozenset({Role.COORDINATOR, Role.AUDITOR})
JURISDICTION_ROLES = frozenset({Role.BUREAU_MANAGER, Role.DEPUTY_BUREAU_MANAGER})


def may_delegate(principal, role, scope: Scope):
    """Whether the principal may grant (or revoke) `role` on `scope`: a coordinator any role within the
    region; a bureau manager agency staff and deputies in its jurisdiction and below, and bureau managers
    strictly below it; never a role above or beside its own. Deputies, auditors, staff and API tokens
    never delegate."""
    if principal.token is not None:
        return False
    if role in REGION_ROLES:
        return scope.region_id is not None and scope.region_id in principal.coordinator_regions
    if scope.jurisdiction_id in principal.coordinator_jurisdictions:
        return True
    if role == Role.BUREAU_MANAGER:
        return (scope.jurisdiction_id in principal.manager_jurisdictions
                and scope.jurisdiction_id not in principal.manager_roots)
    return role in (Role.DEPUTY_BUREAU_MANAGER, Role.AGENCY_STAFF) and (
        scope.jurisdiction_id in principal.manager_jurisdictions)
