"""GraphQL door for bulk asset imports: `importAssets` stores the CSV (text or base64, size-limited) as an
ImportJob and enqueues the Celery job on commit; `importJobs` lists jobs with their progress and errors."""
import base64
import binascii

import django_filters
import graphene
from django.db import transaction
from django.utils.translation import gettext as _

from api.connection import CountableConnection, PagedConnectionField
from api.errors import DomainMutation, decode_id
from api.filtering import EnumFilter
from api.scoped import ScopedObjectType
from exchange.graphql.enums import ImportJobStatus
from exchange.models import ImportJob
from exchange.services import bulk_import
from exchange.tasks_import import run_import_job
from kernel.errors import NotFound, ValidationFailed
from regions.models import Agency


class ImportRowError(graphene.ObjectType):
    row = graphene.Int(description="CSV line number (1 = header); null for a failure of the whole job.")
    field = graphene.String()
    message = graphene.String(required=True)


class ImportJobType(ScopedObjectType):
    class Meta:
        model = ImportJob
        name = "ImportJob"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "agency", "dry_run", "status", "total_rows", "processed_rows", "imported_rows",
                  "created_at", "finished_at")

    pk = graphene.Int(required=True)
    status = graphene.Field(ImportJobStatus, required=True)
    row_errors = graphene.List(graphene.NonNull(ImportRowError), required=True)

    @classmethod
    def node_queryset(cls, info):
        return cls.get_queryset(ImportJob.objects.select_related("agency"), info)

    def resolve_row_errors(root, info):
        return [ImportRowError(**e) for e in root.errors]


class ImportJobFilter(django_filters.FilterSet):
    status = EnumFilter(ImportJobStatus)
    agency_code = django_filters.CharFilter(field_name="agency__code")

    class Meta:
        model = ImportJob
        fields = ["status", "agency_code"]


class ImportAssets(DomainMutation):
    """Upload a CSV of assets for an agency (columns: asset_class, description, quantity, unit,
    original_value, acquired_on, condition, lon, lat). Send `text` or `contentBase64`, at most 2 MiB.
    The import runs as a background job; poll `node(id:)`/`importJobs` for progress and row errors."""

    class Input:
        agency_id = graphene.ID(required=True)
        filename = graphene.String(default_value="import.csv")
        text = graphene.String(description="The CSV as text (UTF-8).")
        content_base64 = graphene.String(description="The CSV file, base64-encoded.")
        dry_run = graphene.Boolean(default_value=False)

    job = graphene.Field(ImportJobType)

    @classmethod
    def perform(cls, info, agency_id, filename, dry_run, text=None, content_base64=None):
        if (text is None) == (content_base64 is None):
            raise ValidationFailed(_("Send exactly one of `text` or `contentBase64`."), field="text")
        if len(text or content_base64) > bulk_import.MAX_UPLOAD_BYTES * 4 // 3 + 4:
            raise ValidationFailed(_("The file is too large."), field="text" if text else "contentBase64",
                                   code="limit_exceeded")
        if text is not None:
            content = text.encode("utf-8")
        else:
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValidationFailed(_("Not valid base64."), field="contentBase64") from exc
        agency = Agency.objects.filter(pk=decode_id(agency_id, "Agency", "agencyId")).first()
        if agency is None:
            raise NotFound(field="agencyId")
        job = bulk_import.start_import_job(info.context.user, agency, filename=filename, content=content,
                                           dry_run=dry_run)
        transaction.on_commit(lambda: _enqueue(job.pk))
        return cls(job=job)


def _enqueue(job_id):
    run_import_job.delay(job_id)


class Query(graphene.ObjectType):
    import_jobs = PagedConnectionField(ImportJobType, filterset_class=ImportJobFilter)

    def resolve_import_jobs(root, info, **kwargs):
        return bulk_import.import_jobs_for(info.context.user)


class Mutation(graphene.ObjectType):
    import_assets = ImportAssets.Field()
