"""The audit trail's one table. It keeps the name `exchange_auditevent` it was created with (the
append-only triggers are attached to it); related models are named by label, so the kernel imports no app."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Append-only, hash-chained trace of every change of state (database triggers refuse UPDATE and
    DELETE). `hash` = SHA-256 of the previous hash in its chain and this event's canonical JSON."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("actor"))
    via_token = models.ForeignKey("regions.ApiToken", models.PROTECT, null=True, blank=True, related_name="+")
    role = models.CharField(_("role"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    transfer = models.ForeignKey("exchange.Transfer", models.PROTECT, null=True, blank=True, related_name="events")
    region = models.ForeignKey("regions.Region", models.PROTECT, null=True, blank=True, related_name="+")
    jurisdiction = models.ForeignKey("regions.Jurisdiction", models.PROTECT, null=True, blank=True, related_name="+")
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The chain the event links into (kernel.audit): a region's id, or null for the global chain.
    chain = models.IntegerField(null=True, blank=True)

    # The parties of the object (both sides of a transfer), the region's coordinators and auditors.
    SCOPE_LOOKUPS = {"jurisdiction": ["jurisdiction_id", "transfer__giver_jurisdiction_id",
                                      "transfer__receiver_jurisdiction_id"],
                     "agency": ["transfer__giver_id", "transfer__receiver_id"]}

    class Meta:
        db_table = "exchange_auditevent"
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]
        indexes = [models.Index(fields=["chain", "id"], name="audit_chain_head")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    @staticmethod
    def extra_visibility(principal):
        return models.Q(region_id__in=principal.coordinator_regions | principal.auditor_regions)


class AuditCheckpoint(models.Model):
    """An anchor of the audit trail: the head event, its hash and the number of events up to it, written
    each day and at each settlement close (and printed on the settlement statement, so a copy leaves the
    database). Deleting the newest events no longer goes unnoticed: `verify_audit` compares the trail with
    the last checkpoint. Append-only like the trail."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("daily")
        SETTLEMENT_CLOSE = "settlement_close", _("settlement close")

    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    head_event_id = models.BigIntegerField(_("head event id"), null=True)
    head_hash = models.CharField(_("head hash"), max_length=64)
    event_count = models.PositiveBigIntegerField(_("events"))

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} #{self.head_event_id} {self.head_hash[:12]} ({self.event_count})"
