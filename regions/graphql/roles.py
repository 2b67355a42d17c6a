"""Delegation in GraphQL: role bindings in the caller's scope, grantRole and revokeRole."""
import graphene

from api.connection import CountableConnection, PagedConnectionField
from api.errors import DomainMutation, decode_id
from api.scalars import enum_value
from api.scoped import ScopedObjectType
from kernel.errors import NotFound
from regions import selectors
from regions.graphql import enums
from regions.models import RoleBinding
from regions.services import roles


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
        from django.utils import timezone

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


class Query(graphene.ObjectType):
    role_bindings = PagedConnectionField(RoleBindingType, active_only=graphene.Boolean(default_value=True),
                                         description="Role bindings in your scope, and your own.")

    def resolve_role_bindings(root, info, active_only=True, **kwargs):
        return selectors.role_bindings_for(info.context.user, active_only=active_only)


class Mutation(graphene.ObjectType):
    grant_role = GrantRole.Field()
    revoke_role = RevokeRole.Field()
