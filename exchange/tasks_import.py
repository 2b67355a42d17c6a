"""Celery task for bulk asset imports (the GraphQL `importAssets` mutation enqueues it on commit)."""
from celery import shared_task

from exchange.services import bulk_import


@shared_task(name="exchange.tasks_import.run_import_job")
def run_import_job(job_id):
    job = bulk_import.run_import_job(job_id)
    return {"id": job.pk, "status": job.status, "imported": job.imported_rows}
