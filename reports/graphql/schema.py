"""Report jobs: request, retry, status and progress, list."""
import graphene

from api.connection import PagedConnectionField
from api.errors import decode_id
from kernel.errors import NotFound
from reports import selectors

from .filters import ReportJobFilter
from .mutations import RequestReport, RetryReport
from .types import ReportJobType


class Query(graphene.ObjectType):
    report_jobs = PagedConnectionField(ReportJobType, filterset_class=ReportJobFilter)
    report_job = graphene.Field(ReportJobType, id=graphene.ID(required=True))

    def resolve_report_jobs(root, info, **kwargs):
        return selectors.jobs_for(info.context.user)

    def resolve_report_job(root, info, id):
        job = selectors.jobs_for(info.context.user).filter(pk=decode_id(id, "ReportJob", "id")).first()
        if job is None:
            raise NotFound(field="id")
        return job


class Mutation(graphene.ObjectType):
    request_report = RequestReport.Field()
    retry_report = RetryReport.Field()
