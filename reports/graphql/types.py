import graphene
from django.urls import reverse

from api.connection import CountableConnection
from api.errors import global_id
from api.scoped import ScopedObjectType
from reports.graphql.enums import ReportKind, ReportStatus
from reports.models import ReportJob


class ReportJobType(ScopedObjectType):
    class Meta:
        model = ReportJob
        name = "ReportJob"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        convert_choices_to_enum = False
        fields = ("id", "progress", "error", "attempts", "size", "pages", "sha256", "data_sha256", "created_at",
                  "started_at", "finished_at", "region", "jurisdiction")

    pk = graphene.Int(required=True)
    kind = ReportKind(required=True)
    status = ReportStatus(required=True)
    parameters = graphene.JSONString(required=True)
    transfer_id = graphene.ID(description="Global ID of the transfer (transfer certificates).")
    requested_by = graphene.String(required=True, description="Username of the requester.")
    download_url = graphene.String(description="Authenticated download URL, once the job has succeeded.")

    def resolve_kind(root, info):
        return str(root.kind)

    def resolve_status(root, info):
        return str(root.status)

    def resolve_transfer_id(root, info):
        return global_id("Transfer", root.transfer_id)

    def resolve_requested_by(root, info):
        return root.requested_by.username

    def resolve_download_url(root, info):
        if root.status != ReportJob.Status.SUCCEEDED:
            return None
        return reverse("reports:download", args=[root.pk])
