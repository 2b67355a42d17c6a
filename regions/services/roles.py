"""Delegation within scope (统一登录、分级授权): who grants which role where, with a reason and an optional
end date; every grant and revocation is an audit event (who, what, scope, reason)."""
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit
from kernel.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from regions.models import Agency, Jurisdiction, Region, Role, RoleBinding
from regions.permissions import JURISDICTION_ROLES, REGION_ROLES, get_principal, may_delegate
from regions.scope import Scope


def scope_of(role, *, region=None, jurisdiction=None, agency=None):
    """The binding fields and permission scope for a role: region roles take a region, bureau roles a
    jurisdiction, agency staff an agency. Raises ValidationFailed when the wrong kind is given."""
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), field="role")
    if role in REGION_ROLES:
        if region is None:
            raise ValidationFailed(_("This role is granted on a region."), field="region_code", code="required")
        return {"region": region}, Scope(region_id=region.pk)
    if role in JURISDICTION_ROLES:
        if jurisdiction is None:
            raise ValidationFailed(_("This role is granted on a jurisdiction."), field="jurisdiction_code",
                                   code="required")
        return {"jurisdiction": jurisdiction}, Scope(jurisdiction_id=jurisdiction.pk)
    if agency is None:
        raise ValidationFailed(_("This role is granted on an agency."), field="agency_code", code="required")
    return {"agency": agency}, Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk)


def scope_label(binding):
    """{"region": code} / {"jurisdiction": code} / {"agency": code} for the audit trail."""
    if binding.region_id:
        return {"region": binding.region.code}
    if binding.jurisdiction_id:
        return {"jurisdiction": binding.jurisdiction.code}
    return {"agency": binding.agency.code, "jurisdiction": binding.agency.jurisdiction.code}


def _trail_scope(binding):
    jurisdiction = binding.jurisdiction or (binding.agency.jurisdiction if binding.agency_id else None)
    return {"region": binding.region, "jurisdiction": jurisdiction}


def _require_delegation(user, role, scope):
    """The superuser bootstraps the first coordinators (e.g. in the admin); everyone else delegates."""
    principal = get_principal(user)
    if getattr(user, "is_superuser", False) and principal.token is None:
        return principal
    if not may_delegate(principal, role, scope):
        raise PermissionDenied(_("You may not grant or revoke this role on this scope."), field="role")
    return principal


def find_user(username, field="username"):
    user = get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise NotFound(_("No such user."), field=field)
    return user


def resolve_scope(*, region_code=None, jurisdiction_code=None, agency_code=None):
    """Model instances for the codes given (region code, GB/T 2260 code, unified social credit code)."""
    found = {}
    for key, model, field, code in (("region", Region, "region_code", region_code),
                                    ("jurisdiction", Jurisdiction, "jurisdiction_code", jurisdiction_code),
                                    ("agency", Agency, "agency_code", agency_code)):
        if code:
            obj = model.objects.filter(code=code).first()
            if obj is None:
                raise NotFound(field=field)
            found[key] = obj
    return found


@transaction.atomic
def grant_role(user, *, grantee, role, reason, ends_on=None, region=None, jurisdiction=None, agency=None,
               trail_action="role.granted"):
    """Bind `role` on the scope to `grantee`. Refused beyond the granter's scope, to oneself, with an end
    date in the past, or when the grantee already holds that role there."""
    fields, scope = scope_of(role, region=region, jurisdiction=jurisdiction, agency=agency)
    _require_delegation(user, role, scope)
    if grantee.pk == user.pk:
        raise PermissionDenied(_("Nobody grants a role to themselves; ask another manager."), field="username",
                               code="permission_denied")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A grant needs a reason."), field="reason", code="required")
    if ends_on is not None and ends_on < timezone.localdate():
        raise ValidationFailed(_("The end date is in the past."), field="ends_on")
    if RoleBinding.objects.active().filter(user=grantee, role=role, **fields).exists():
        raise InvalidState(_("%(user)s already holds this role there.") % {"user": grantee.get_username()},
                           field="username", code="duplicate")
    binding = RoleBinding.objects.create(user=grantee, role=role, granted_by=user, reason=reason, ends_on=ends_on,
                                         **fields)
    audit.record(user, trail_action, binding, after={
        "user": grantee.get_username(), "role": role, "scope": scope_label(binding), "reason": reason,
        "ends_on": ends_on}, **_trail_scope(binding))
    return binding


@transaction.atomic
def revoke_role(user, binding, *, reason):
    """End a binding now, with a reason; the binding stays as history."""
    binding = RoleBinding.objects.select_for_update(of=("self",)).select_related(
        "user", "region", "jurisdiction", "agency__jurisdiction").get(pk=binding.pk)
    _require_delegation(user, binding.role, binding.permission_scope())
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A revocation needs a reason."), field="reason", code="required")
    if binding.revoked_at is not None:
        raise InvalidState(_("This role was already revoked."), field="role_binding_id")
    binding.revoked_at, binding.revoked_by, binding.revoke_reason = timezone.now(), user, reason
    binding.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit.record(user, "role.revoked", binding, before={"ends_on": binding.ends_on}, after={
        "user": binding.user.get_username(), "role": binding.role, "scope": scope_label(binding),
        "reason": reason, "revoked_at": binding.revoked_at}, **_trail_scope(binding))
    return binding


def grantable_roles(user):
    """The roles the user may grant somewhere (for forms): [(role, label)]."""
    principal = get_principal(user)
    if principal.token is not None:
        return []
    if principal.coordinator_regions:
        return list(Role.choices)
    if principal.manager_jurisdictions:
        return [(r, label) for r, label in Role.choices
                if r in (Role.AGENCY_STAFF, Role.DEPUTY_BUREAU_MANAGER)
                or (r == Role.BUREAU_MANAGER and principal.manager_jurisdictions - principal.manager_roots)]
    return []
