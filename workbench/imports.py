"""Asset import pages: upload a CSV or XLSX file (optionally a dry run), follow the job's progress, read
its per-row errors. The job is the one GraphQL's `importAssets` starts (`bulk_import.start_import_job`,
run by Celery after the upload commits)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from exchange import selectors
from exchange.services import bulk_import
from exchange.tasks_import import run_import_job
from workbench.base import attempt, page
from workbench.templatetags.workbench import local_name
from workbench.views import my_agencies

PAGE_SIZE = 20
ERRORS_SHOWN = 200


class ImportForm(forms.Form):
    agency = forms.TypedChoiceField(label=gettext_lazy("Agency"), coerce=int)
    file = forms.FileField(label=gettext_lazy("File (CSV in UTF-8, or XLSX; at most 2 MB)"))
    dry_run = forms.BooleanField(label=gettext_lazy("Dry run: check every row, import nothing"), required=False,
                                 initial=True)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, local_name(a)) for a in agencies]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > bulk_import.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(n)d bytes.")
                                        % {"n": bulk_import.MAX_UPLOAD_BYTES})
        return upload


def start(user, *, agency, file, dry_run):
    job = bulk_import.start_import_job(user, agency, filename=file.name, content=file.read(), dry_run=dry_run)
    transaction.on_commit(lambda: run_import_job.delay(job.pk))
    return job


@login_required
@require_http_methods(["GET", "POST"])
def imports(request):
    agencies = my_agencies(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["agency"] = next(a for a in agencies if a.pk == data["agency"])
        ok, job = attempt(form, start, request.user, **data, aliases={"content": "file"})
        if ok:
            messages.success(request, _("Import #%(id)s queued.") % {"id": job.pk})
            return redirect("web:import_job", job.pk)
    rows = Paginator(selectors.import_jobs_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    busy = any(job.status in ("queued", "running") for job in rows)
    return page(request, "web/imports.html", {"form": form, "rows": rows, "busy": busy,
                                              "columns": bulk_import.COLUMNS, "can_upload": bool(agencies)},
                status=400 if form.errors else 200)


@login_required
def import_job(request, pk):
    job = selectors.import_jobs_for(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return page(request, "web/import_job.html", {
        "job": job, "errors": job.errors[:ERRORS_SHOWN], "more_errors": max(len(job.errors) - ERRORS_SHOWN, 0),
        "busy": job.status in (job.Status.QUEUED, job.Status.RUNNING)})
