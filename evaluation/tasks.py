"""Scheduled work of the evaluation: at each cycle's end, freeze it (idempotent: re-runs change nothing)."""
from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import services


@shared_task(name="evaluation.tasks.close_evaluation_cycles")
def close_evaluation_cycles(now=None):
    """Freeze every region's last ended cycle; `now` (ISO 8601) lets a test or an operator move the clock."""
    frozen = services.close_due_cycles(now=parse_datetime(now) if now else None)
    return [e.pk for e in frozen]
