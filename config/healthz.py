from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from config.celery import app


def healthz(request):
    """Liveness and dependencies: database and (when configured) the Celery broker."""
    status = {"database": "ok", "broker": "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "ok",
              "database_engine": connection.vendor}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        status["database"] = f"error: {exc.__class__.__name__}"
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # noqa: BLE001
            status["broker"] = f"error: {exc.__class__.__name__}"
    healthy = status["database"] == "ok" and not str(status["broker"]).startswith("error")
    return JsonResponse({"status": "ok" if healthy else "degraded", **status}, status=200 if healthy else 503)
