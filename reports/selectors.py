"""Reads for reports. With a user, every queryset goes through `restrict`; without one (operators'
`render_report` command, which runs with shell access to the database) the scope alone limits it."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from exchange.models import ApprovalStep, Asset, Listing, Transfer
from kernel.errors import NotFound
from kernel.models import AuditEvent
from regions.permissions import restrict

from .models import ReportJob, ReportKind

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _visible(queryset, user):
    return queryset if user is None else restrict(queryset, user)


def day_range(period_from, period_to):
    """Aware datetimes [start, end) of the period's dates in Asia/Shanghai."""
    start = datetime.combine(period_from, time.min, SHANGHAI) if period_from else None
    end = datetime.combine(period_to + timedelta(days=1), time.min, SHANGHAI) if period_to else None
    return start, end


def in_period(field, period_from, period_to):
    start, end = day_range(period_from, period_to)
    q = Q()
    if start:
        q &= Q(**{f"{field}__gte": start})
    if end:
        q &= Q(**{f"{field}__lt": end})
    return q


def transfer_for_certificate(transfer_id, user=None):
    transfer = (_visible(Transfer.objects.all(), user)
                .select_related("region", "giver__jurisdiction", "receiver__jurisdiction",
                                "listing__asset__asset_class", "listing__office_space")
                .filter(pk=transfer_id).first())
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id} in your scope.", field="transfer_id")
    return transfer


def approval_steps(transfer):
    return transfer.steps.select_related("decided_by").order_by("kind")


def handover_event(transfer):
    return (AuditEvent.objects.filter(transfer=transfer, action="transfer.completed").select_related("actor")
            .order_by("-id").first())


def period_transfers(scope_jurisdictions, region, period_from, period_to, user=None, statuses=Transfer.ACTIVE):
    """Transfers of the region allocated in the period that touch the scope (giver or receiver side)."""
    q = Q(region=region, status__in=statuses) & in_period("allocated_at", period_from, period_to)
    if scope_jurisdictions is not None:
        q &= Q(giver_jurisdiction_id__in=scope_jurisdictions) | Q(receiver_jurisdiction_id__in=scope_jurisdictions)
    return _visible(Transfer.objects.filter(q), user).order_by("allocated_at", "id")


def period_listings(jurisdictions, region, period_from, period_to, user=None):
    q = Q(region=region, jurisdiction_id__in=jurisdictions) & in_period("opened_at", period_from, period_to)
    return _visible(Listing.objects.filter(q), user)


def completed_transfers(jurisdictions, region, period_from, period_to, user=None):
    q = Q(region=region, status=Transfer.Status.COMPLETED) & in_period("completed_at", period_from, period_to)
    q &= Q(giver_jurisdiction_id__in=jurisdictions) | Q(receiver_jurisdiction_id__in=jurisdictions)
    return _visible(Transfer.objects.filter(q), user)


def bureau_steps(jurisdictions, period_from, period_to, user=None):
    """Approval steps decided by the jurisdictions' bureaus in the period, or still pending and opened
    before its end (an overdue pending step counts as red)."""
    _start, end = day_range(period_from, period_to)
    decided = Q(decision__in=[ApprovalStep.Decision.APPROVED, ApprovalStep.Decision.REFUSED],
                decided_at__isnull=False) & in_period("decided_at", period_from, period_to)
    pending = Q(decision=ApprovalStep.Decision.PENDING) & (Q(opened_at__lt=end) if end else Q())
    return _visible(ApprovalStep.objects.filter(Q(jurisdiction_id__in=jurisdictions) & (decided | pending)), user)


def assets_of(jurisdictions, user=None):
    return _visible(Asset.objects.filter(agency__jurisdiction_id__in=jurisdictions), user)


def jobs_for(user):
    """Report jobs the user may see (rules: `ReportJob.extra_visibility`)."""
    return restrict(ReportJob.objects.select_related("region", "jurisdiction", "requested_by", "transfer"), user)


def issued_certificates(transfer):
    """The certificate PDFs generated for a transfer (data checksum, when), oldest first."""
    return (ReportJob.objects.filter(transfer=transfer, kind=ReportKind.TRANSFER_CERTIFICATE,
                                     status=ReportJob.Status.SUCCEEDED).exclude(data_sha256="")
            .order_by("finished_at", "id").values_list("data_sha256", "finished_at"))


def certificate_by_code(code):
    """Public verification: the completed transfer with this certificate code (no user, no scope)."""
    return (Transfer.objects.select_related("region", "giver__jurisdiction", "receiver__jurisdiction",
                                            "listing__asset__asset_class", "listing__office_space")
            .filter(certificate_code=code, status=Transfer.Status.COMPLETED).first())
