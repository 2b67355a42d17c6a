"""Report jobs: a requested document, rendered by Celery, stored with Django's storage API."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regions.scope import Scope


class ReportKind(models.TextChoices):
    TRANSFER_CERTIFICATE = "transfer_certificate", _("transfer certificate")
    ALLOCATION_REPORT = "allocation_report", _("period allocation report")
    SETTLEMENT_STATEMENT = "settlement_statement", _("settlement statement")
    SCORECARD = "scorecard", _("performance scorecard")


def report_path(instance, filename):
    return f"reports/{instance.created_at:%Y/%m}/{filename}"


class ReportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=24, choices=ReportKind.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    region = models.ForeignKey("regions.Region", models.PROTECT, related_name="+", verbose_name=_("region"))
    jurisdiction = models.ForeignKey("regions.Jurisdiction", models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("jurisdiction"))
    transfer = models.ForeignKey("exchange.Transfer", models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("transfer"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    file = models.FileField(_("file"), upload_to=report_path, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    data_sha256 = models.CharField(_("data SHA-256"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_percent"),
            models.CheckConstraint(condition=Q(kind="transfer_certificate", transfer__isnull=False)
                                   | (~Q(kind="transfer_certificate") & Q(transfer__isnull=True)),
                                   name="report_certificate_has_transfer"),
            models.CheckConstraint(condition=~Q(status="succeeded") | (Q(size__isnull=False) & ~Q(sha256="")),
                                   name="report_succeeded_has_file"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} · {self.get_status_display()}"

    @staticmethod
    def extra_visibility(p):
        """The requester; region-wide roles the region's jobs; bureaus their jurisdictions' jobs and the
        certificates of their transfers; agency staff the certificates of their transfers. A token sees
        only what its jurisdiction covers, not its creator's other roles or requests."""
        own = p.bureau_jurisdictions
        q = (Q(jurisdiction_id__in=own) | Q(transfer__giver_jurisdiction_id__in=own)
             | Q(transfer__receiver_jurisdiction_id__in=own))
        if p.token is None:
            q |= (Q(requested_by_id=p.user_id) | Q(region_id__in=p.coordinator_regions | p.auditor_regions)
                  | Q(transfer__giver_id__in=p.staff_agencies) | Q(transfer__receiver_id__in=p.staff_agencies))
        return q

    def permission_scopes(self):
        """The scopes whose holders may see and download this job (any one suffices): a certificate is
        readable by either party of the transfer, a period report by its region or jurisdiction."""
        if self.transfer_id:
            t = self.transfer
            return [Scope(region_id=t.region_id, jurisdiction_id=t.giver_jurisdiction_id, agency_id=t.giver_id),
                    Scope(region_id=t.region_id, jurisdiction_id=t.receiver_jurisdiction_id,
                          agency_id=t.receiver_id)]
        return [Scope(region_id=self.region_id, jurisdiction_id=self.jurisdiction_id)]

    @property
    def filename(self):
        return f"{self.kind}-{self.pk}.pdf"
