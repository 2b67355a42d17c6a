"""Celery app: eager (in-process) without CELERY_BROKER_URL, Redis with it."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
app = Celery("gongwucang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
