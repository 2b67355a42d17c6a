"""Uploaded files are never served by path: nothing under MEDIA_ROOT has a URL. Photos (workbench
`web:photo`) and report PDFs (reports) are answered by views that find the row
through the permission layer first, so an id the caller may not see is a 404 (ids cannot be probed),
and a signed-out caller a 401. Uploaded import files are never served back at all (the job's row errors
are its answer).

`protected_file` streams the file through Django, or — when `PROTECTED_MEDIA_ACCEL` names an internal
location of the front web server (nginx `internal;`, e.g. `/protected-media/`) — answers an empty response
with `X-Accel-Redirect`, so the server sends the bytes after Django has checked access. Every answer has
`nosniff`; photos also a sandboxing Content-Security-Policy, so that even a file a browser
would misread cannot run script in the application's origin (report PDFs go without: browsers' PDF viewers
do not open in a sandbox)."""
from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse

from kernel.errors import NotAuthenticated
from regions.permissions import restrict
from regions.services.tokens import request_user

SANDBOX_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def protected_file(fieldfile, content_type, *, filename=None, as_attachment=False, sandbox=False):
    accel = getattr(settings, "PROTECTED_MEDIA_ACCEL", "")
    if accel:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + fieldfile.name
        if filename:
            kind = "attachment" if as_attachment else "inline"
            response["Content-Disposition"] = f'{kind}; filename="{filename}"'
    else:
        response = FileResponse(fieldfile.open("rb"), content_type=content_type, as_attachment=as_attachment,
                                filename=filename or "")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if sandbox:
        response["Content-Security-Policy"] = SANDBOX_CSP
        response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def photo_file(photo):
    """A stored photo (re-encoded on upload, so its content type is the decoded format's), shown inline
    under its generated name."""
    return protected_file(photo.file, photo.content_type, filename=photo.file.name.rsplit("/", 1)[-1], sandbox=True)


def _refusal(code, status):
    return JsonResponse({"error": {"code": code}}, status=status)


def _visible(request, queryset, pk):
    """(row, None) when the caller may see it, else (None, the 401/404 answer)."""
    try:
        user = request_user(request)
    except NotAuthenticated:
        return None, _refusal("not_authenticated", 401)
    found = restrict(queryset, user).filter(pk=pk).first()
    return (found, None) if found is not None else (None, _refusal("not_found", 404))


