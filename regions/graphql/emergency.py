"""Emergency stop in GraphQL: stopJurisdiction, liftEmergencyStop, emergencyStops."""
import graphene

from api.connection import CountableConnection, PagedConnectionField
from api.errors import DomainMutation, decode_id
from api.scoped import ScopedObjectType
from kernel.errors import NotFound
from regions.models import EmergencyStop, Jurisdiction
from regions.permissions import restrict
from regions.services import emergency


class EmergencyStopType(ScopedObjectType):
    class Meta:
        model = EmergencyStop
        name = "EmergencyStop"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "jurisdiction", "reason", "started_at", "sessions_ended", "lifted_at", "lift_reason")
        filter_fields = {"started_at": ["gte", "lte"]}

    started_by = graphene.String(required=True)
    lifted_by = graphene.String()
    tokens_suspended = graphene.Int(required=True, description="API tokens this stop holds suspended now.")

    def resolve_started_by(root, info):
        return root.started_by.get_username()

    def resolve_lifted_by(root, info):
        return root.lifted_by.get_username() if root.lifted_by_id else None

    def resolve_tokens_suspended(root, info):
        return root.tokens.count()


def _session_key(info):
    session = getattr(info.context, "session", None)
    return getattr(session, "session_key", None)


class StopJurisdiction(DomainMutation):
    """Suspend a jurisdiction's access at once: its people's sessions ended, its API tokens suspended, its
    webhooks paused. A coordinator of its region, or its own bureau; a reason is required."""

    class Input:
        jurisdiction_code = graphene.String(required=True)
        reason = graphene.String(required=True)

    emergency_stop = graphene.Field(EmergencyStopType)

    @classmethod
    def perform(cls, info, jurisdiction_code, reason):
        jurisdiction = Jurisdiction.objects.filter(code=jurisdiction_code).first()
        if jurisdiction is None:
            raise NotFound(field="jurisdictionCode")
        return cls(emergency_stop=emergency.stop_jurisdiction(info.context.user, jurisdiction, reason=reason,
                                                              keep_session_key=_session_key(info)))


class LiftEmergencyStop(DomainMutation):
    """Lift a stop: the tokens it suspended that have not expired work again."""

    class Input:
        stop_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    emergency_stop = graphene.Field(EmergencyStopType)

    @classmethod
    def perform(cls, info, stop_id, reason):
        stop = restrict(EmergencyStop.objects.all(), info.context.user).filter(
            pk=decode_id(stop_id, "EmergencyStop", "stopId")).first()
        if stop is None:
            raise NotFound(field="stopId")
        return cls(emergency_stop=emergency.lift_stop(info.context.user, stop, reason=reason))


class Query(graphene.ObjectType):
    emergency_stops = PagedConnectionField(EmergencyStopType, description="Emergency stops in your scope.")

    def resolve_emergency_stops(root, info, **kwargs):
        return restrict(EmergencyStop.objects.select_related("jurisdiction", "started_by", "lifted_by"),
                        info.context.user)


class Mutation(graphene.ObjectType):
    stop_jurisdiction = StopJurisdiction.Field()
    lift_emergency_stop = LiftEmergencyStop.Field()
