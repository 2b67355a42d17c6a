"""Delegation in GraphQL: role bindings in the caller's scope, grantRole and revokeRole; access requests
(requestAccess, decideAccessRequest, withdrawAccessRequest)."""
import graphene
from django.utils import timezone

from api.connection import CountableConnection, PagedConnectionField
from api.enums import Light
from api.errors import DomainMutation, decode_id
from api.scalars import enum_value
from api.scoped import ScopedObjectType
from kernel.errors import NotFound
from regions import selectors
from regions.graphql import enums
from regions.graphql.duties import duty_field
from regions.models import AccessRequest, RoleBinding
from regions.services import access, roles


class RoleBindingType(ScopedObjectType):
    class Meta:
        model = RoleBinding
        name = "RoleBinding"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "role", "region", "jurisdiction", "agency", "granted_at", "reason", "ends_on",
                  "revoked_at", "revoke_reason")
        filter_fields = {"ends_on": ["lte", "gte"]}

    role = graphene.Field(enums.Role, required=True)
    username = graphene.String(required=True)
    granted_by = graphene.String(description="Username of the granter (null for roles set up by the system).")
    revoked_by = graphene.String()
    active = graphene.Boolean(required=True, description="Not revoked and not past its end date.")

    @classmethod
    def node_queryset(cls, info):
        return selectors.role_bindings_for(info.context.user, active_only=False)

    def resolve_username(root, info):
        return root.user.get_username()

    def resolve_granted_by(root, info):
        return root.granted_by.get_username() if root.granted_by_id else None

    def resolve_revoked_by(root, info):
        return root.revoked_by.get_username() if root.revoked_by_id else None

    def resolve_active(root, info):
        return root.revoked_at is None and (root.ends_on is None or root.ends_on >= timezone.localdate())


class GrantRole(DomainMutation):
    """Grant a role within your scope: coordinators any role in their region; bureau managers agency staff and
    deputies in their jurisdiction and below, bureau managers strictly below. Needs a reason; `endsOn` is
    the last day the role is held (it lapses by itself after)."""

    class Input:
        username = graphene.String(required=True)
        role = enums.Role(required=True)
        region_code = graphene.String()
        jurisdiction_code = graphene.String(description="GB/T 2260 code, for bureau roles")
        agency_code = graphene.String(description="Unified social credit code, for agency staff")
        reason = graphene.String(required=True)
        ends_on = graphene.Date()

    role_binding = graphene.Field(RoleBindingType)

    @classmethod
    def perform(cls, info, username, role, reason, region_code=None, jurisdiction_code=None, agency_code=None,
                ends_on=None):
        scope = roles.resolve_scope(region_code=region_code, jurisdiction_code=jurisdiction_code,
                                    agency_code=agency_code)
        binding = roles.grant_role(info.context.user, grantee=roles.find_user(username), role=enum_value(role),
                                   reason=reason,
                                   ends_on=ends_on, **scope)
        return cls(role_binding=binding)


class RevokeRole(DomainMutation):
    """Revoke a role binding within your scope, with a reason; it stays in the history."""

    class Input:
        role_binding_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    role_binding = graphene.Field(RoleBindingType)

    @classmethod
    def perform(cls, info, role_binding_id, reason):
        binding = selectors.role_bindings_for(info.context.user, active_only=False).filter(
            pk=decode_id(role_binding_id, "RoleBinding", "roleBindingId")).first()
        if binding is None:
            raise NotFound(field="roleBindingId")
        return cls(role_binding=roles.revoke_role(info.context.user, binding, reason=reason))


class AccessRequestType(ScopedObjectType):
    class Meta:
        model = AccessRequest
        name = "AccessRequest"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "role", "region", "jurisdiction", "agency", "reason", "ends_on", "status", "created_at",
                  "yellow_at", "due_at", "decided_at", "decision_reason", "binding")
        filter_fields = {"due_at": ["lte", "gte"]}

    role = graphene.Field(enums.Role, required=True)
    status = graphene.Field(enums.AccessRequestStatus, required=True)
    requester = graphene.String(required=True)
    decided_by = graphene.String()
    responsible = graphene.String(description="Who handles it (claimed, or assigned by the bureau).")
    duty = duty_field("The request's responsible person, deadline and light.")
    light = graphene.Field(Light, description="While pending; null once decided.")

    @classmethod
    def node_queryset(cls, info):
        return selectors.access_requests_for(info.context.user)

    def resolve_requester(root, info):
        return root.requester.get_username()

    def resolve_decided_by(root, info):
        return root.decided_by.get_username() if root.decided_by_id else None

    def resolve_responsible(root, info):
        duty = next(iter(root.duties.all()), None)
        return duty.responsible.get_username() if duty is not None and duty.responsible_id else None

    def resolve_light(root, info):
        return root.light


class RequestAccess(DomainMutation):
    """Ask for a role on a scope, with a reason; those who may grant it there are notified."""

    class Input:
        role = enums.Role(required=True)
        region_code = graphene.String()
        jurisdiction_code = graphene.String()
        agency_code = graphene.String()
        reason = graphene.String(required=True)
        ends_on = graphene.Date()

    access_request = graphene.Field(AccessRequestType)

    @classmethod
    def perform(cls, info, role, reason, region_code=None, jurisdiction_code=None, agency_code=None, ends_on=None):
        scope = roles.resolve_scope(region_code=region_code, jurisdiction_code=jurisdiction_code,
                                    agency_code=agency_code)
        return cls(access_request=access.request_access(info.context.user, role=enum_value(role), reason=reason,
                                                        ends_on=ends_on, **scope))


def _access_request(info, value):
    found = selectors.access_requests_for(info.context.user).filter(
        pk=decode_id(value, "AccessRequest", "accessRequestId")).first()
    if found is None:
        raise NotFound(field="accessRequestId")
    return found


class DecideAccessRequest(DomainMutation):
    """Grant (the role is bound at once) or refuse an access request, with a reason."""

    class Input:
        access_request_id = graphene.ID(required=True)
        grant = graphene.Boolean(required=True)
        reason = graphene.String(required=True)

    access_request = graphene.Field(AccessRequestType)

    @classmethod
    def perform(cls, info, access_request_id, grant, reason):
        return cls(access_request=access.decide_access(info.context.user, _access_request(info, access_request_id),
                                                       grant=grant, reason=reason))


class WithdrawAccessRequest(DomainMutation):
    class Input:
        access_request_id = graphene.ID(required=True)

    access_request = graphene.Field(AccessRequestType)

    @classmethod
    def perform(cls, info, access_request_id):
        return cls(access_request=access.withdraw_access(info.context.user, _access_request(info, access_request_id)))


class Query(graphene.ObjectType):
    role_bindings = PagedConnectionField(RoleBindingType, active_only=graphene.Boolean(default_value=True),
                                         description="Role bindings in your scope, and your own.")
    access_requests = PagedConnectionField(
        AccessRequestType, to_decide=graphene.Boolean(default_value=False),
        description="Your own access requests, or (toDecide) the pending ones you may decide, most urgent first.")

    def resolve_role_bindings(root, info, active_only=True, **kwargs):
        return selectors.role_bindings_for(info.context.user, active_only=active_only)

    def resolve_access_requests(root, info, to_decide=False, **kwargs):
        user = info.context.user
        return selectors.access_requests_to_decide(user) if to_decide else selectors.my_access_requests(user)


class Mutation(graphene.ObjectType):
    grant_role = GrantRole.Field()
    revoke_role = RevokeRole.Field()
    request_access = RequestAccess.Field()
    decide_access_request = DecideAccessRequest.Field()
    withdraw_access_request = WithdrawAccessRequest.Field()
