"""Download a report (session or `Authorization: Bearer gwc_…`, scope-checked) and verify a transfer
certificate by its code (public, JSON). Refusals have the GraphQL error shape and codes:
`{"errors": [{"message": …, "extensions": {"code": "NOT_FOUND"}}]}`."""
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from graphql_relay import to_global_id

from exchange.media import protected_file
from kernel.errors import DomainError, InvalidState, NotAuthenticated, NotFound, PermissionDenied, public_code
from regions.services.tokens import request_user

from . import services

STATUS = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404, InvalidState: 409}


def error_body(code, message, **extra):
    return {**extra, "errors": [{"message": str(message), "extensions": {"code": public_code(code)}}]}


@require_GET
def download(request, job_id):
    try:
        job = services.job_for_download(request_user(request), job_id)
    except DomainError as exc:
        return JsonResponse(error_body(exc.code, exc.message), status=STATUS.get(type(exc), 400),
                            json_dumps_params={"ensure_ascii": False})
    response = protected_file(job.file, "application/pdf", filename=job.filename, as_attachment=True)
    response["X-Content-SHA256"] = job.sha256
    return response


@require_GET
def verify(request, code):
    facts = services.verification(code)
    if facts is None:
        return JsonResponse(error_body(NotFound.code, _("No completed transfer has this certificate code."),
                                       valid=False), status=404, json_dumps_params={"ensure_ascii": False})
    facts = {**facts, "transferId": to_global_id("Transfer", facts["transferId"])}
    return JsonResponse(facts, json_dumps_params={"ensure_ascii": False})
