"""Accountability in GraphQL: a stage's responsible person, deadline and light (`duty` on approval steps,
`handoverDuty` on transfers, `allocationDuty` on requests, `duty` on payment instructions and access
requests), the queue of open stages (`stageQueue`), and `claimStage` / `assignStage`. A stage is named by the
global ID of its object, so what a caller may reach is what the permission layer lets it see of that object."""
import graphene
from django.apps import apps
from django.contrib.auth import get_user_model
from graphql_relay import from_global_id, to_global_id

from api.enums import Light
from api.errors import DomainMutation
from api.scalars import domain_enum
from kernel.errors import NotFound
from regions import selectors
from regions.models import Duty
from regions.permissions import restrict
from regions.services import duties

DutyStage = domain_enum("DutyStage", Duty.Stage, "环节 Stage of a matter that has a responsible person and a time "
                                                 "limit.")

# the object types whose global IDs name a stage: GraphQL type name -> (app label, model name)
SUBJECTS = {"TransferRequest": ("exchange", "transferrequest"), "ApprovalStep": ("exchange", "approvalstep"),
            "Transfer": ("exchange", "transfer"), "PaymentInstruction": ("ledger", "paymentinstruction"),
            "AccessRequest": ("regions", "accessrequest")}


class StageDuty(graphene.ObjectType):
    """首接负责: who answers for the stage, by when, and its light."""

    stage = graphene.Field(DutyStage, required=True)
    subject_id = graphene.ID(required=True, description="Global ID of the object the stage belongs to.")
    responsible = graphene.String(description="Username of the responsible person; null until claimed or "
                                              "assigned.")
    responsible_since = graphene.DateTime()
    assigned_by = graphene.String(description="Who assigned it; null when the responsible person claimed it.")
    opened_at = graphene.DateTime(required=True)
    yellow_at = graphene.DateTime(required=True)
    due_at = graphene.DateTime(required=True)
    closed_at = graphene.DateTime()
    escalated_at = graphene.DateTime(description="When it escalated to the region's coordinators, overdue.")
    light = graphene.Field(Light, description="While open; null once the stage is over.")

    def resolve_subject_id(root, info):
        return to_global_id(root.subject_type.model_class().__name__, root.subject_id)

    def resolve_responsible(root, info):
        return root.responsible.get_username() if root.responsible_id else None

    def resolve_assigned_by(root, info):
        return root.assigned_by.get_username() if root.assigned_by_id else None

    def resolve_light(root, info):
        return root.light


def duty_field(description):
    """A `StageDuty` field resolved from the object's (prefetched) `duties`."""
    def resolve(root, info):
        return next(iter(root.duties.all()), None)

    return graphene.Field(StageDuty, description=description, resolver=resolve)


def _stage_duty(info, stage_id):
    """The duty of the object the caller may see under this global ID; NotFound otherwise."""
    try:
        type_name, pk = from_global_id(str(stage_id))
    except Exception:  # noqa: BLE001 - malformed base64 is just a bad id
        type_name, pk = None, None
    if type_name not in SUBJECTS or not str(pk).isdigit():
        raise NotFound(field="id")
    model = apps.get_model(*SUBJECTS[type_name])
    subject = restrict(model.objects.all(), info.context.user).filter(pk=int(pk)).first()
    duty = Duty.objects.filter(subject_type__app_label=SUBJECTS[type_name][0],
                               subject_type__model=SUBJECTS[type_name][1], subject_id=int(pk)).first()
    if subject is None or duty is None:
        raise NotFound(field="id")
    return duty


class ClaimStage(DomainMutation):
    """Take on a stage (首接负责): someone who decides it there becomes its responsible person."""

    class Input:
        id = graphene.ID(required=True, description="Global ID of the request, approval step, transfer "
                                                    "(handover), payment instruction or access request.")

    duty = graphene.Field(StageDuty)

    @classmethod
    def perform(cls, info, id):
        return cls(duty=duties.claim(info.context.user, _stage_duty(info, id)))


class AssignStage(DomainMutation):
    """The bureau manager (or the region's coordinator) names the stage's responsible person."""

    class Input:
        id = graphene.ID(required=True)
        username = graphene.String(required=True)
        reason = graphene.String()

    duty = graphene.Field(StageDuty)

    @classmethod
    def perform(cls, info, id, username, reason=""):
        duty = _stage_duty(info, id)
        assignee = get_user_model().objects.filter(username=username, is_active=True).first()
        return cls(duty=duties.assign(info.context.user, duty, assignee, reason=reason or ""))


class Query(graphene.ObjectType):
    stage_queue = graphene.List(graphene.NonNull(StageDuty), required=True,
                                first=graphene.Int(default_value=50, description="At most 200."),
                                description="Open stages in your scope and those you answer for, most urgent "
                                            "first.")

    def resolve_stage_queue(root, info, first=50):
        return list(selectors.duty_queue(info.context.user)[:max(0, min(first or 50, 200))])


class Mutation(graphene.ObjectType):
    claim_stage = ClaimStage.Field()
    assign_stage = AssignStage.Field()
