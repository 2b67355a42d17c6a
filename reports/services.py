"""Report jobs: request (permission, validation, job, audit, enqueue), run (build data → render → store),
retry, download access, and rendering for operators. GraphQL, views, the task and the command call these."""
import hashlib
import logging
import re
from datetime import date

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Transfer
from kernel import audit
from kernel.errors import DomainError, InvalidState, NotFound, PermissionDenied, ValidationFailed
from regions.membership import regions_of
from regions.models import Jurisdiction, Region
from regions.permissions import allows, get_principal
from regions.scope import Scope

from . import builders, render, selectors
from .models import ReportJob, ReportKind
from .tasks import run_report_job

log = logging.getLogger("reports")
PERIOD_KINDS = (ReportKind.ALLOCATION_REPORT, ReportKind.SETTLEMENT_STATEMENT, ReportKind.SCORECARD)
MAX_PERIOD_DAYS = 3 * 366


# --- request --------------------------------------------------------------------------------------
def _region_of(jurisdiction, region_code):
    """The region given by code, or the one region the jurisdiction (or an ancestor) is a member of."""
    regions = Region.objects.filter(pk__in=regions_of([jurisdiction.pk]))
    if region_code:
        regions = regions.filter(code=region_code)
    found = list(regions[:2])
    if len(found) != 1:
        raise ValidationFailed(_("The jurisdiction is not a member of exactly one region; give regionCode."),
                               field="region_code")
    return found[0]


def _period(period_from, period_to):
    if period_from and period_to and period_from > period_to:
        raise ValidationFailed(_("The period ends before it starts."), field="period_to")
    if period_from and period_to and (period_to - period_from).days > MAX_PERIOD_DAYS:
        raise ValidationFailed(_("A report covers at most three years."), field="period_to", code="limit_exceeded")
    return {"period_from": period_from.isoformat() if period_from else None,
            "period_to": period_to.isoformat() if period_to else None}


def _scope_of_request(kind, region_code, jurisdiction_code, transfer_id):
    """(region, jurisdiction, transfer, scopes) of a requested report, validated."""
    if kind == ReportKind.TRANSFER_CERTIFICATE:
        if not transfer_id:
            raise ValidationFailed(_("A transfer certificate needs a transfer."), field="transfer_id", code="required")
        transfer = Transfer.objects.filter(pk=transfer_id).first()
        if transfer is None:
            raise NotFound(field="transfer_id")
        job = ReportJob(kind=kind, region_id=transfer.region_id, transfer=transfer)
        return transfer.region, None, transfer, job.permission_scopes()
    if kind not in PERIOD_KINDS:
        raise ValidationFailed(_("Unknown report kind."), field="kind")
    jurisdiction = None
    if jurisdiction_code:
        jurisdiction = Jurisdiction.objects.select_related("parent__parent").filter(code=jurisdiction_code).first()
        if jurisdiction is None:
            raise NotFound(field="jurisdiction_code")
        region = _region_of(jurisdiction, region_code)
    else:
        region = Region.objects.filter(code=region_code).first() if region_code else None
        if region is None:
            raise ValidationFailed(_("Give a regionCode or a jurisdictionCode."), field="region_code",
                                   code="required")
    return region, jurisdiction, None, [Scope(region_id=region.pk, jurisdiction_id=getattr(jurisdiction, "pk", None))]


def check_access(user, scopes, action="report.request"):
    """Whether one of the user's roles covers one of the scopes: `report.request` starts a job (refused to a
    read-only token), `report.download` reads its file."""
    principal = get_principal(user)
    if not principal.can_write and action == "report.request":
        raise PermissionDenied(_("A read-only API token cannot change anything or start a job; use a token "
                                 "with the write scope."))
    if not any(allows(principal, action, scope) for scope in scopes):
        raise PermissionDenied(_("This report is outside your scope."))
    return principal


def request_report(user, kind, *, region_code=None, jurisdiction_code=None, transfer_id=None,
                   period_from: date | None = None, period_to: date | None = None):
    """Create a report job for a scope the user covers (auditors and coordinators: their region; bureaus:
    their jurisdiction; parties' bureaus and agencies: their transfers' certificates) and enqueue it."""
    get_principal(user)
    with transaction.atomic():
        region, jurisdiction, transfer, scopes = _scope_of_request(kind, region_code, jurisdiction_code, transfer_id)
        check_access(user, scopes)
        if transfer is not None and transfer.status != Transfer.Status.COMPLETED:
            raise InvalidState(_("A transfer certificate is issued only for a completed transfer."),
                               field="transfer_id")
        parameters = {} if kind == ReportKind.TRANSFER_CERTIFICATE else _period(period_from, period_to)
        job = ReportJob.objects.create(kind=kind, parameters=parameters, requested_by=user, region=region,
                                       jurisdiction=jurisdiction, transfer=transfer)
        audit.record(user, "report.requested", job, after={"kind": kind, **parameters,
                                                            "jurisdiction": getattr(jurisdiction, "code", None),
                                                            "transfer": getattr(transfer, "pk", None)},
                     transfer=transfer, region=region, jurisdiction=jurisdiction)
        _enqueue_on_commit(job)
    return job


def retry_report(user, job):
    """Queue a failed job again (same parameters); any other state is refused."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job.pk)
        check_access(user, job.permission_scopes())
        if job.status != ReportJob.Status.FAILED:
            raise InvalidState(_("Only a failed report job can be retried."), field="job_id")
        before = {"status": job.status, "error": job.error}
        job.status, job.progress, job.error, job.finished_at = ReportJob.Status.QUEUED, 0, "", None
        job.save(update_fields=["status", "progress", "error", "finished_at"])
        audit.record(user, "report.retried", job, before=before, after={"status": job.status}, region=job.region,
                     jurisdiction=job.jurisdiction, transfer=job.transfer)
        _enqueue_on_commit(job)
    return job


def _enqueue_on_commit(job):
    def enqueue():
        try:
            run_report_job.delay(job.pk)
        except Exception as exc:  # noqa: BLE001 - a broker outage must leave a visible, retryable failure
            log.exception("could not enqueue report job %s", job.pk)
            _finish(job.pk, error=f"could not enqueue: {exc}")

    transaction.on_commit(enqueue)


# --- run ------------------------------------------------------------------------------------------
def _progress(job_id):
    def update(percent):
        ReportJob.objects.filter(pk=job_id).update(progress=min(99, max(0, int(percent))))
    return update


def ensure_certificate_code(transfer, user=None):
    """Give a completed transfer a random, unguessable verification code if it has none (12 characters,
    60 bits). A conditional UPDATE so that two concurrent jobs agree on one code."""
    if transfer.certificate_code:
        return transfer.certificate_code
    with transaction.atomic():
        code = Transfer.new_certificate_code()
        if Transfer.objects.filter(pk=transfer.pk, certificate_code__isnull=True).update(certificate_code=code):
            audit.record(user, "transfer.certificate_code", transfer, before={"certificate_code": None},
                         after={"certificate_code": code}, transfer=transfer, region=transfer.region,
                         role="system")
    transfer.refresh_from_db(fields=["certificate_code"])
    return transfer.certificate_code


def build_data(kind, *, region=None, jurisdiction=None, transfer_id=None, period_from=None, period_to=None,
               user=None, progress=builders._noop):
    """The document's data for a scope; `user=None` is the operator (render_report command)."""
    if kind == ReportKind.TRANSFER_CERTIFICATE:
        transfer = Transfer.objects.select_related("region").filter(pk=transfer_id).first()
        if transfer is None:
            raise NotFound(f"No transfer {transfer_id}.", field="transfer_id")
        if transfer.status == Transfer.Status.COMPLETED:
            ensure_certificate_code(transfer, user)
        return builders.build_transfer_certificate(transfer_id, user=user, progress=progress)
    return builders.BUILDERS[kind](region, jurisdiction, period_from, period_to, user=user, progress=progress)


def render_document(data, generated_at=None):
    return render.render(data, generated_at=generated_at or timezone.now())


def count_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page[^s]", pdf))


def run_job(job_id):
    """Run one queued job: build, render, store. Failures are recorded on the job (retryable), never
    raised; a job that is not queued (duplicate delivery) is left alone."""
    with transaction.atomic():
        job = (ReportJob.objects.select_for_update().filter(pk=job_id, status=ReportJob.Status.QUEUED).first())
        if job is None:
            return ReportJob.objects.filter(pk=job_id).first()
        job.status, job.started_at, job.progress = ReportJob.Status.RUNNING, timezone.now(), 5
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "progress", "attempts"])
    job = ReportJob.objects.select_related("region", "jurisdiction", "requested_by").get(pk=job_id)
    try:
        p = job.parameters
        data = build_data(job.kind, region=job.region, jurisdiction=job.jurisdiction, transfer_id=job.transfer_id,
                          period_from=date.fromisoformat(p["period_from"]) if p.get("period_from") else None,
                          period_to=date.fromisoformat(p["period_to"]) if p.get("period_to") else None,
                          user=job.requested_by, progress=_progress(job_id))
        _progress(job_id)(80)
        pdf = render_document(data)
    except DomainError as exc:
        return _finish(job_id, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
        log.exception("report job %s failed", job_id)
        return _finish(job_id, error=f"{type(exc).__name__}: {exc}")
    return _finish(job_id, pdf=pdf, data=data)


def _finish(job_id, *, pdf=None, data=None, error=""):
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        job.finished_at = timezone.now()
        if pdf is None:
            job.status, job.error = ReportJob.Status.FAILED, error[:2000]
        else:
            from .data import data_sha256

            job.file.save(job.filename, ContentFile(pdf), save=False)
            job.status, job.progress, job.error = ReportJob.Status.SUCCEEDED, 100, ""
            job.size, job.pages = len(pdf), count_pages(pdf)
            job.sha256, job.data_sha256 = hashlib.sha256(pdf).hexdigest(), data_sha256(data)
        job.save()
        audit.record(None, f"report.{job.status}", job, after={"size": job.size, "sha256": job.sha256,
                                                                "data_sha256": job.data_sha256, "error": job.error},
                     region=job.region, jurisdiction=job.jurisdiction, transfer=job.transfer, role="system")
    return job


# --- download -------------------------------------------------------------------------------------
def job_for_download(user, job_id):
    """The succeeded job if the user may see it (else NotFound) and its scope covers them (else
    PermissionDenied; InvalidState while not ready); each download of an official document is recorded in
    the audit trail."""
    with transaction.atomic():
        job = selectors.jobs_for(user).filter(pk=job_id).first()
        if job is None:  # unseen and unknown alike, so ids cannot be probed
            raise NotFound()
        check_access(user, job.permission_scopes(), "report.download")
        if job.status != ReportJob.Status.SUCCEEDED:
            raise InvalidState(_("The report is not ready."))
        audit.record(user, "report.downloaded", job, after={"sha256": job.sha256}, region=job.region,
                     jurisdiction=job.jurisdiction, transfer=job.transfer)
    return job


def verification(code):
    """What a holder of the paper certificate compares, for the public verify endpoint, and nothing more: the
    certificate's number and code, the two parties (agencies and jurisdictions), the item, the quantity, the
    completion date and the data checksums printed on the PDFs issued for it. No value, no person, no
    balance, no internal id."""
    code = re.sub(r"[\s-]", "", code or "").upper()
    transfer = selectors.certificate_by_code(code) if 6 <= len(code) <= 16 else None
    if transfer is None:
        return None
    item = builders._items(transfer)[0]

    def party(agency):
        return {"agency": agency.name_zh, "jurisdiction": agency.jurisdiction.name_zh,
                "jurisdictionCode": agency.jurisdiction.code}

    return {
        "valid": True, "certificateCode": transfer.certificate_code, "certificateNo": f"GWC-{transfer.pk:08d}",
        "giver": party(transfer.giver), "receiver": party(transfer.receiver), "item": item.description,
        "quantity": item.quantity, "unit": item.unit,
        "completedOn": timezone.localtime(transfer.completed_at).date().isoformat(),
        "dataChecksums": [digest for digest, _at in selectors.issued_certificates(transfer)],
    }
