import graphene

from api.errors import DomainMutation, decode_id
from kernel.errors import NotFound
from reports import selectors, services

from .enums import ReportKind
from .types import ReportJobType


class RequestReport(DomainMutation):
    """Request a PDF report; it is generated in the background (poll `reportJob`, then download)."""

    idempotent = True  # queues a job: a retry must not queue a second one

    class Input:
        kind = ReportKind(required=True)
        region_code = graphene.String(description="Region-wide report (auditors, coordinators).")
        jurisdiction_code = graphene.String(description="Report for one jurisdiction (its bureau, or the region).")
        transfer_id = graphene.ID(description="Transfer certificate: the completed transfer.")
        period_from = graphene.Date()
        period_to = graphene.Date()

    job = graphene.Field(ReportJobType)

    @classmethod
    def perform(cls, info, kind, region_code=None, jurisdiction_code=None, transfer_id=None, period_from=None,
                period_to=None):
        job = services.request_report(
            info.context.user, getattr(kind, "value", kind), region_code=region_code,
            jurisdiction_code=jurisdiction_code, transfer_id=decode_id(transfer_id, "Transfer", "transferId"),
            period_from=period_from, period_to=period_to)
        return cls(job=job)


class RetryReport(DomainMutation):
    """Queue a failed report job again."""

    class Input:
        job_id = graphene.ID(required=True)

    job = graphene.Field(ReportJobType)

    @classmethod
    def perform(cls, info, job_id):
        job = selectors.jobs_for(info.context.user).filter(pk=decode_id(job_id, "ReportJob", "jobId")).first()
        if job is None:
            raise NotFound(field="jobId")
        return cls(job=services.retry_report(info.context.user, job))
