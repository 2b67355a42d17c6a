"""Download a report (session or `Authorization: Bearer gwc_…`, scope-checked) and verify a transfer
certificate by its code (public: a page, or JSON). Refusals have the GraphQL error shape and codes:
`{"errors": [{"message": …, "extensions": {"code": "NOT_FOUND"}}]}`."""
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from api import limits
from exchange.media import protected_file
from kernel.errors import DomainError, InvalidState, NotAuthenticated, NotFound, PermissionDenied, public_code
from regions.services.tokens import request_user

from . import services

STATUS = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404, InvalidState: 409}
UNICODE = {"ensure_ascii": False}


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


def wants_json(request):
    """JSON for `Accept: application/json` (a system); the HTML page otherwise (a person scanning the QR code)."""
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


@require_GET
def verify(request, code):
    """Public, rate-limited per address (CERTIFICATE_VERIFY_RATE, probes of unknown codes counted too): the
    facts a paper holder compares (`services.verification`), as a page or as JSON."""
    as_json = wants_json(request)
    wait = limits.charge(f"verify:ip:{request.META.get('REMOTE_ADDR', '?')}", rate=settings.CERTIFICATE_VERIFY_RATE)
    if wait is not None:
        message = _("Too many verifications from your address; try again in %(seconds)d s.") % {"seconds": wait}
        response = (JsonResponse(error_body("rate_limited", message), status=429, json_dumps_params=UNICODE)
                    if as_json else render(request, "reports/verify.html", {"error": message}, status=429))
        response["Retry-After"] = str(wait)
        return response
    facts = services.verification(code)
    if facts is None:
        message = _("No completed transfer has this certificate code.")
        if as_json:
            return JsonResponse(error_body(NotFound.code, message, valid=False), status=404, json_dumps_params=UNICODE)
        return render(request, "reports/verify.html", {"error": message, "code": code}, status=404)
    if as_json:
        return JsonResponse(facts, json_dumps_params=UNICODE)
    return render(request, "reports/verify.html", {"facts": facts})
