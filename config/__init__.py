"""The project package: settings, URLs, the Celery app, WSGI/ASGI, health check, GraphQL endpoint and
schema composition. It sits on top of every app; no app imports it."""
from .celery import app as celery_app

__all__ = ["celery_app"]
