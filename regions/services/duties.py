"""Accountability at every stage (明确责任人和责任单位…设定每个节点的完成时限; 首接负责制): each stage of a matter — a
request pending allocation, an approval step, a handover, a settlement payment, an access request — opens a
`Duty` with a working-day time limit from the standard in force and a light (`kernel.deadlines`). Whoever
holds the stage's authority there claims it (首接负责), or the bureau manager (the region's coordinator)
assigns it to someone who does; once overdue it escalates to the region's coordinators, once."""
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit, deadlines
from kernel.errors import InvalidState, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from notifications.services import notify
from regions.models import Duty, Role, RoleBinding, StandardSet
from regions.permissions import allows, get_principal, may_delegate
from regions.services.standards import standard_in_force

Stage = Duty.Stage


def _subject_q(subject):
    return Q(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)


def standard_days(region, field):
    """The working days the standard set in force today gives the stage (`field` of StandardSet); the
    field's default where the region has no set in force."""
    try:
        return getattr(standard_in_force(region, timezone.localdate()), field)
    except NotFound:
        return StandardSet._meta.get_field(field).default


def open_duty(subject, stage, *, action, region_id, jurisdiction_id=None, agency_id=None, working_days=None,
              opened_at=None, yellow_at=None, due_at=None):
    """Open the stage's duty: its clock is given (a step's own times) or `working_days` from now."""
    opened_at = opened_at or timezone.now()
    if due_at is None:
        yellow_at, due_at = deadlines.clock(opened_at, working_days)
    return Duty.objects.create(
        stage=stage, subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk,
        action=action, region_id=region_id, jurisdiction_id=jurisdiction_id, agency_id=agency_id, opened_at=opened_at,
        yellow_at=yellow_at or deadlines.yellow_from(opened_at, due_at), due_at=due_at)


def close_duties(model, pks, stage, when=None):
    """Close the open duties of these subjects at this stage (the stage is over: decided, done, withdrawn)."""
    return Duty.objects.filter(subject_type=ContentType.objects.get_for_model(model), subject_id__in=list(pks),
                               stage=stage, closed_at__isnull=True).update(closed_at=when or timezone.now())


def close_duty(subject, stage, when=None):
    return close_duties(type(subject), [subject.pk], stage, when)


def duty_of(subject, stage):
    return Duty.objects.filter(_subject_q(subject), stage=stage).select_related("responsible").first()


def duties_for(model, pks, stage=None):
    """{subject pk: duty} for these subjects (one query), for pages and GraphQL lists."""
    qs = Duty.objects.filter(subject_type=ContentType.objects.get_for_model(model), subject_id__in=list(pks))
    if stage is not None:
        qs = qs.filter(stage=stage)
    return {d.subject_id: d for d in qs.select_related("responsible", "assigned_by")}


# stage -> check(user, subject) -> bool: a higher app's extra rule on who may act on a stage of its matters
# (the exchange's separation of duties on approval steps), registered when that app is ready
ACT_CHECKS = {}


def may_act(user, duty, *, app_rules=True):
    """Whether the user holds the stage's authority where the duty lies (so may claim or be assigned it), and
    (with `app_rules`) no rule of the stage's app excludes them. Lists pass app_rules=False to stay at a
    constant number of queries; claiming and assigning always apply them."""
    if user is None or not user.is_active:
        return False
    check = ACT_CHECKS.get(duty.stage) if app_rules else None
    if check is not None and not check(user, duty.subject):
        return False
    principal = get_principal(user)
    if principal.token is not None:
        return False
    if duty.stage == Stage.ACCESS:
        request = duty.subject
        return may_delegate(principal, request.role, request.permission_scope())
    if duty.action == "approval.decide":  # each step belongs to one authority: its bureau or the coordinator
        if duty.jurisdiction_id is None:
            return duty.region_id in principal.coordinator_regions
        return duty.jurisdiction_id in principal.bureau_jurisdictions
    return allows(principal, duty.action, duty.permission_scope())


def may_assign(user, duty):
    """The bureau manager over the duty's jurisdiction, or a coordinator of its region, assigns it."""
    principal = get_principal(user)
    if principal.token is not None:
        return False
    return (duty.region_id in principal.coordinator_regions
            or (duty.jurisdiction_id is not None and duty.jurisdiction_id in principal.manager_jurisdictions))


def _locked(duty):
    return Duty.objects.select_for_update(of=("self",)).select_related("region", "jurisdiction").get(pk=duty.pk)


def _transfer_of(duty):
    """The transfer a stage belongs to (its trail shows the duty's events); None for other matters."""
    subject = duty.subject
    if duty.stage == Stage.HANDOVER:
        return subject
    return getattr(subject, "transfer", None) if duty.stage == Stage.APPROVAL else None


def _trail(duty):
    return {"region": duty.region, "jurisdiction": duty.jurisdiction, "transfer": _transfer_of(duty)}


@transaction.atomic
def claim(user, duty):
    """首接负责: the first of the stage's authorities to take the duty becomes its responsible person."""
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    duty = _locked(duty)
    if not may_act(user, duty):
        raise PermissionDenied(_("Only someone who decides this stage may take it on."), field="id")
    if duty.closed_at is not None:
        raise InvalidState(_("This stage is over."), field="id")
    if duty.responsible_id is not None:
        if duty.responsible_id == user.pk:
            return duty
        raise InvalidState(_("%(name)s is already responsible for this stage.")
                           % {"name": duty.responsible.get_username()}, field="id", code="duplicate")
    duty.responsible, duty.responsible_since, duty.assigned_by = user, timezone.now(), None
    duty.save(update_fields=["responsible", "responsible_since", "assigned_by"])
    audit.record(user, "duty.claimed", duty, after={"stage": duty.stage, "responsible": user.get_username()},
                 **_trail(duty))
    return duty


@transaction.atomic
def assign(user, duty, assignee, *, reason=""):
    """The bureau (or the coordinator) names the responsible person: someone who decides the stage there."""
    duty = _locked(duty)
    if not may_assign(user, duty):
        raise PermissionDenied(_("Only the bureau manager or the region's coordinator assigns this stage."),
                               field="id")
    if duty.closed_at is not None:
        raise InvalidState(_("This stage is over."), field="id")
    if assignee is None or not may_act(assignee, duty):
        raise ValidationFailed(_("Assign someone who decides this stage here."), field="username")
    before = duty.responsible.get_username() if duty.responsible_id else None
    duty.responsible, duty.responsible_since, duty.assigned_by = assignee, timezone.now(), user
    duty.save(update_fields=["responsible", "responsible_since", "assigned_by"])
    audit.record(user, "duty.assigned", duty, before={"responsible": before},
                 after={"stage": duty.stage, "responsible": assignee.get_username(), "reason": reason or ""},
                 **_trail(duty))
    notify([assignee], "duty_assigned", key=f"duty:{duty.pk}:assigned:{assignee.pk}:{duty.responsible_since:%s}",
           params={"stage": duty.stage, "by": user.get_username(),
                   "due": f"{timezone.localtime(duty.due_at):%Y-%m-%d %H:%M}"}, url="/duties/")
    return duty


def coordinators(region_id):
    return list(get_user_model().objects.filter(is_active=True, role_bindings__in=RoleBinding.objects.active().filter(
        role=Role.COORDINATOR, region_id=region_id)).distinct().order_by("pk"))


def escalate_overdue(now=None):
    """Escalate every open duty past its deadline to the region's coordinators, once (a conditional UPDATE
    claims it, so repeated or concurrent runs never escalate twice). Returns how many escalated."""
    now = now or timezone.now()
    escalated = 0
    for duty in Duty.objects.filter(closed_at__isnull=True, escalated_at__isnull=True, due_at__lte=now).select_related(
            "region", "jurisdiction", "responsible"):
        with transaction.atomic():
            if not Duty.objects.filter(pk=duty.pk, escalated_at__isnull=True).update(escalated_at=now):
                continue
            to = coordinators(duty.region_id)
            audit.record(None, "duty.escalated", duty, after={
                "stage": duty.stage, "due_at": duty.due_at, "to": [u.get_username() for u in to],
                "responsible": duty.responsible.get_username() if duty.responsible_id else None},
                role="system", **_trail(duty))
            notify(to, "duty_escalated", key=f"duty:{duty.pk}:escalated", params={
                "stage": duty.stage, "due": f"{timezone.localtime(duty.due_at):%Y-%m-%d %H:%M}",
                "scope": str(duty.jurisdiction or duty.region),
                "responsible": duty.responsible.get_username() if duty.responsible_id else "—"}, url="/duties/")
        escalated += 1
    return escalated
