"""The in-app inbox: one row per recipient and event. The text is rendered when read (in the reader's
language) from `kind` and `params`; `key` makes every notification once-only per recipient, so a task
that re-runs, or a message delivered twice, notifies nobody twice."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.messages import render


class Notification(models.Model):
    class Kind(models.TextChoices):
        STEP_OPENED = "step_opened", _("step opened for me")
        STEP_YELLOW = "step_yellow", _("step due soon")
        STEP_RED = "step_red", _("step overdue")
        REQUEST_ALLOCATED = "request_allocated", _("request allocated")
        REQUEST_REFUSED = "request_refused", _("request refused")
        HANDOVER_AWAITING = "handover_awaiting", _("handover awaiting me")
        WANT_MATCHED = "want_matched", _("watched item listed")
        LOAN_DUE = "loan_due", _("loan due")
        LOAN_OVERDUE = "loan_overdue", _("loan overdue")
        DISPOSAL_PENDING = "disposal_pending", _("disposal awaiting")
        ACCESS_REQUESTED = "access_requested", _("access request sent")
        ACCESS_GRANTED = "access_granted", _("access request granted")
        ACCESS_REFUSED = "access_refused", _("access request refused")
        DISPOSAL_PROPOSED = "disposal_proposed", _("disposal awaiting approval")
        DISPOSAL_DECIDED = "disposal_decided", _("disposal decided")
        PURCHASE_ANSWERED = "purchase_answered", _("purchase check answered")
        LOAN_RETURNED = "loan_returned", _("loan returned")
        LOAN_APPROVAL_OPENED = "loan_approval_opened", _("loan awaiting my approval")
        LOAN_APPROVAL_YELLOW = "loan_approval_yellow", _("loan approval due soon")
        LOAN_APPROVAL_RED = "loan_approval_red", _("loan approval overdue")
        DUTY_ASSIGNED = "duty_assigned", _("stage assigned to me")
        DUTY_ESCALATED = "duty_escalated", _("overdue stage escalated")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications",
                                  verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    key = models.CharField(_("event key"), max_length=120)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]

    def __str__(self):
        return f"{self.recipient} · {self.kind} · {self.key}"

    @staticmethod
    def extra_visibility(principal):
        """One's own inbox, signed in as oneself (a token is a city's system, not its creator)."""
        if principal.token is not None or principal.user_id is None:
            return models.Q(pk__in=[])
        return models.Q(recipient_id=principal.user_id)

    @property
    def message(self):
        return render(self.kind, self.params)
