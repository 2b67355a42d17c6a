"""Traffic-light reminders: one email per approval step per light (yellow, then red), idempotent."""
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from exchange.models import ApprovalStep
from kernel import audit
from regions.models import Role, RoleBinding


def deciders(step):
    """Role bindings of those who decide the step: the region's coordinators, or the managers of its
    jurisdiction."""
    if step.kind == ApprovalStep.Kind.COORDINATOR:
        return RoleBinding.objects.active().filter(role=Role.COORDINATOR, region_id=step.region_id)
    return bureau_deciders(step.jurisdiction_id)


def bureau_deciders(jurisdiction_id):
    """Role bindings of the managers (and deputies) who decide for a jurisdiction's bureau."""
    return RoleBinding.objects.active().filter(role__in=[Role.BUREAU_MANAGER, Role.DEPUTY_BUREAU_MANAGER],
                                               jurisdiction_id=jurisdiction_id)


def _recipients(step):
    return sorted({e for e in deciders(step).values_list("user__email", flat=True) if e})


def _message(step, light):
    transfer = step.transfer
    due = timezone.localtime(step.due_at)
    word = {"yellow": "即将到期 due soon", "red": "已超期 overdue"}[light]
    subject = f"[公物仓] 审批{word}: 调拨 #{transfer.pk} · {step.get_kind_display()}"
    body = (f"调拨 #{transfer.pk}: {transfer.giver} → {transfer.receiver} ({transfer.listing.title})\n"
            f"审批环节 step: {step.get_kind_display()}\n截止 due: {due:%Y-%m-%d %H:%M}\n灯色 light: {light}\n")
    return subject, body


def send_approval_reminders(now=None):
    """Send the reminders owed now; returns how many steps were reminded. A step is claimed by a
    conditional UPDATE of `last_reminded_light` before its email goes out, so concurrent or repeated
    runs never send the same light twice."""
    now = now or timezone.now()
    due = (ApprovalStep.objects.annotate(light_now=ApprovalStep.light_expression(now))
           .filter(light_now__in=[ApprovalStep.Light.YELLOW, ApprovalStep.Light.RED])
           .exclude(last_reminded_light=F("light_now"))
           .select_related("transfer__giver", "transfer__receiver", "transfer__listing", "transfer__region"))
    sent = 0
    for step in due:
        light = step.light_now
        with transaction.atomic():
            claimed = ApprovalStep.objects.filter(pk=step.pk).filter(
                ~Q(last_reminded_light=light), decision=ApprovalStep.Decision.PENDING).update(
                last_reminded_light=light)
            if not claimed:
                continue
            audit.record(None, "approval.reminded", step, before={"last_reminded_light": step.last_reminded_light},
                         after={"last_reminded_light": light}, transfer=step.transfer, region=step.transfer.region,
                         role="system")
        recipients = _recipients(step)
        if recipients:
            subject, body = _message(step, light)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        sent += 1
    return sent
