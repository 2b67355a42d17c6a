"""Access requests (向高级管理员申请…使用权限): a person asks for a role on a scope with a reason; those who
may grant it there are notified, one of them decides with a reason. The request has a working-day deadline
and a light like every stage."""
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit, deadlines
from kernel.errors import InvalidState, NotAuthenticated, PermissionDenied, ValidationFailed
from notifications.services import notify
from regions.membership import ancestors
from regions.models import AccessRequest, Membership, Role, RoleBinding
from regions.permissions import REGION_ROLES, get_principal, may_delegate
from regions.services import duties, roles

DEFAULT_WORKING_DAYS = 3


def region_of(request):
    """The region whose standards set the request's time limit."""
    if request.region_id:
        return request.region
    jurisdiction_id = request.jurisdiction_id or request.agency.jurisdiction_id
    membership = (Membership.objects.filter(jurisdiction_id__in=ancestors([jurisdiction_id]), left_on__isnull=True)
                  .select_related("region").order_by("region_id").first())
    return membership.region if membership else None


def _working_days(region):
    if region is None:
        return DEFAULT_WORKING_DAYS
    return duties.standard_days(region, "access_request_working_days")


def granters(role, scope, region):
    """Who may decide: the bureau managers nearest the scope who may grant the role there, else the
    region's coordinators (the next level, also where an overdue request escalates)."""
    User = get_user_model()
    bureau = []
    if scope.jurisdiction_id is not None and role not in REGION_ROLES:
        ids = ancestors([scope.jurisdiction_id])
        bureau = [u for u in User.objects.filter(
            is_active=True, role_bindings__in=RoleBinding.objects.active().filter(
                role=Role.BUREAU_MANAGER, jurisdiction_id__in=ids)).distinct().order_by("pk")
            if may_delegate(get_principal(u), role, scope)]
    return bureau or coordinators(region)


def coordinators(region):
    if region is None:
        return []
    return list(get_user_model().objects.filter(is_active=True, role_bindings__in=RoleBinding.objects.active().filter(
        role=Role.COORDINATOR, region=region)).distinct().order_by("pk"))


def _trail(request):
    jurisdiction = request.jurisdiction or (request.agency.jurisdiction if request.agency_id else None)
    return {"region": request.region or region_of(request), "jurisdiction": jurisdiction}


def _notify(recipients, kind, request, reason):
    """Inbox notices (and email) about the request; returns the usernames notified."""
    params = {"requester": request.requester.get_username(), "role": request.get_role_display(),
              "scope": str(request.scope_object), "reason": reason,
              "due": f"{timezone.localtime(request.due_at):%Y-%m-%d %H:%M}"}
    notify(recipients, kind, key=f"access:{request.pk}:{kind}", params=params, url="/roles/")
    return [u.get_username() for u in recipients]


@transaction.atomic
def request_access(user, *, role, reason, ends_on=None, region=None, jurisdiction=None, agency=None):
    """Ask for `role` on the scope. Refused for an API token, for a scope outside the regions of the roles
    one holds (a newcomer with none may ask anywhere), without a reason, for a role already held or already
    asked for there. Notifies who may grant it."""
    principal = get_principal(user)
    if principal.token is not None:
        raise NotAuthenticated(_("An API token cannot ask for a role; sign in as a person."))
    fields, scope = roles.scope_of(role, region=region, jurisdiction=jurisdiction, agency=agency)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why you need this role."), field="reason", code="required")
    if ends_on is not None and ends_on < timezone.localdate():
        raise ValidationFailed(_("The end date is in the past."), field="ends_on")
    if RoleBinding.objects.active().filter(user=user, role=role, **fields).exists():
        raise InvalidState(_("You already hold this role there."), field="role", code="duplicate")
    if AccessRequest.objects.filter(requester=user, role=role, status=AccessRequest.Status.PENDING,
                                    **fields).exists():
        raise InvalidState(_("You have already asked for this role there."), field="role", code="duplicate")
    request = AccessRequest(requester=user, role=role, reason=reason, ends_on=ends_on, **fields)
    region_obj = region_of(request)
    if principal.roles and (region_obj is None or region_obj.pk not in principal.regions):
        raise PermissionDenied(_("Ask for roles in a region you belong to; a newcomer without roles may ask "
                                 "anywhere."), field="role")
    now = timezone.now()
    request.created_at = now
    request.yellow_at, request.due_at = deadlines.clock(now, _working_days(region_obj))
    request.save()
    duties.open_duty(request, duties.Stage.ACCESS, action="access.decide",
                     region_id=region_obj.pk if region_obj else None,
                     jurisdiction_id=request.jurisdiction_id or (request.agency.jurisdiction_id if request.agency_id
                                                                 else None),
                     agency_id=request.agency_id, opened_at=now, yellow_at=request.yellow_at, due_at=request.due_at)
    audit.record(user, "access.requested", request, after={
        "role": role, "scope": roles.scope_label(request), "reason": reason, "ends_on": ends_on,
        "due_at": request.due_at}, **_trail(request))
    notified = _notify(granters(role, scope, region_obj), "access_requested", request, reason)
    audit.record(user, "access.notified", request, after={"to": notified}, **_trail(request))
    return request


def _locked(request):
    return (AccessRequest.objects.select_for_update(of=("self",))
            .select_related("requester", "region", "jurisdiction", "agency__jurisdiction").get(pk=request.pk))


@transaction.atomic
def decide_access(user, request, *, grant, reason):
    """Grant (through the roles service, so the same scope rules and trail apply) or refuse, with a reason."""
    request = _locked(request)
    principal = get_principal(user)
    superuser = user.is_superuser and principal.token is None
    if not may_delegate(principal, request.role, request.permission_scope()) and not superuser:
        raise PermissionDenied(_("You may not grant this role on this scope."), field="access_request_id")
    if request.status != AccessRequest.Status.PENDING:
        raise InvalidState(_("This request has already been decided."), field="access_request_id")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A decision needs a reason."), field="reason", code="required")
    light = deadlines.light(request.yellow_at, request.due_at)
    if grant:
        request.binding = roles.grant_role(user, grantee=request.requester, role=request.role, reason=reason,
                                           ends_on=request.ends_on, region=request.region,
                                           jurisdiction=request.jurisdiction, agency=request.agency)
    request.status = AccessRequest.Status.GRANTED if grant else AccessRequest.Status.REFUSED
    request.decided_by, request.decided_at, request.decision_reason = user, timezone.now(), reason
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "binding"])
    duties.close_duty(request, duties.Stage.ACCESS, request.decided_at)
    audit.record(user, f"access.{request.status}", request, before={"status": "pending", "light": light},
                 after={"status": request.status, "reason": reason, "binding": request.binding_id}, **_trail(request))
    _notify([request.requester], f"access_{request.status}", request, reason)
    return request


@transaction.atomic
def withdraw_access(user, request):
    if get_principal(user).token is not None:
        raise NotAuthenticated(_("An API token cannot ask for a role; sign in as a person."))
    request = _locked(request)
    if request.requester_id != user.pk:
        raise PermissionDenied(_("Only the requester withdraws a request."), field="access_request_id")
    if request.status != AccessRequest.Status.PENDING:
        raise InvalidState(_("This request has already been decided."), field="access_request_id")
    request.status = AccessRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    duties.close_duty(request, duties.Stage.ACCESS)
    audit.record(user, "access.withdrawn", request, before={"status": "pending"}, after={"status": request.status},
                 **_trail(request))
    return request


def decidable_q(principal):
    """Q of the access requests the principal may decide (the same rule as `may_delegate`, in SQL)."""
    if principal.token is not None:
        return Q(pk__in=[])
    region_roles = list(REGION_ROLES)
    coordinator = principal.coordinator_jurisdictions
    managed = principal.manager_jurisdictions
    below = managed - principal.manager_roots
    return (Q(role__in=region_roles, region_id__in=principal.coordinator_regions)
            | Q(jurisdiction_id__in=coordinator) | Q(agency__jurisdiction_id__in=coordinator)
            | Q(role=Role.BUREAU_MANAGER, jurisdiction_id__in=below)
            | Q(role=Role.DEPUTY_BUREAU_MANAGER, jurisdiction_id__in=managed)
            | Q(role=Role.AGENCY_STAFF, agency__jurisdiction_id__in=managed))
