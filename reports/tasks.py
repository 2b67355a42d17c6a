"""Celery task: run one report job (eager in-process without a broker)."""
from celery import shared_task

from . import services


@shared_task(name="reports.tasks.run_report_job", ignore_result=True)
def run_report_job(job_id):
    job = services.run_job(job_id)
    return job.status if job else None
