"""Download a report (session or `Authorization: Bearer gwc_…`, scope-checked) and verify a transfer
certificate by its code (public, JSON)."""
from django.http import FileResponse, JsonResponse
from django.views.decorators.http import require_GET

from kernel.errors import DomainError, InvalidState, NotAuthenticated, NotFound, PermissionDenied
from regions.services.tokens import authenticate

from . import services

STATUS = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404, InvalidState: 409}


def _caller(request):
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return authenticate(header.removeprefix("Bearer ").strip())
    if not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


@require_GET
def download(request, job_id):
    try:
        job = services.job_for_download(_caller(request), job_id)
    except DomainError as exc:
        return JsonResponse({"error": {"code": exc.code, "message": exc.message}},
                            status=STATUS.get(type(exc), 400))
    response = FileResponse(job.file.open("rb"), content_type="application/pdf", as_attachment=True,
                            filename=job.filename)
    response["X-Content-SHA256"] = job.sha256
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def verify(request, code):
    facts = services.verification(code)
    if facts is None:
        return JsonResponse({"valid": False, "error": {"code": "not_found",
                                                       "message": "No completed transfer has this certificate code."}},
                            status=404)
    return JsonResponse(facts, json_dumps_params={"ensure_ascii": False})
