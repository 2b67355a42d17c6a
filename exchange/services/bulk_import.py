"""Bulk asset import from CSV, used by `manage.py import_assets` and the Celery import job.

Every row is validated first; if any row fails, nothing is written and the per-row report says why.
Otherwise all rows are inserted in one transaction with `bulk_create` in batches, and one audit event
records the import. Columns (header row, UTF-8, optional BOM):

    asset_class, description, quantity, unit, original_value, acquired_on, condition, lon, lat, asset_number

`asset_class` is a GB/T 14885 code that must exist; `description`, `quantity`, `unit`, `original_value`,
`acquired_on` and `asset_number` within the bounds their Asset fields declare (kernel.bounds: quantity 1 …
10,000, a CNY amount ≥ 0 with at most 2 decimals, an ISO date from 1950 to today, lengths); `condition`
one of new/good/fair/poor (default good); `unit` defaults to 台; `lon`/`lat` (WGS 84) must lie inside the
agency's jurisdiction boundary (or, when it has none, inside China's bounding box); both empty means the
agency's address point.
`asset_number` (资产编号, optional) is the agency's own number: one already on record for the agency, or
repeated in the file, is reported as a duplicate and (as any error) nothing is imported or updated.
"""
import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from exchange.models import Asset, AssetClass, Condition, ImportJob
from kernel import audit, bounds
from kernel.errors import LimitExceeded, ValidationFailed
from kernel.spreadsheet import neutral_row
from regions.permissions import require, restrict
from regions.scope import Scope

COLUMNS = ("asset_class", "description", "quantity", "unit", "original_value", "acquired_on", "condition",
           "lon", "lat", "asset_number")
REQUIRED = ("asset_class", "description", "quantity", "original_value", "acquired_on")
BATCH_SIZE = 2000
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # GraphQL uploads; the command has no limit
CHINA_BBOX = (73.5, 18.1, 135.1, 53.6)  # lon_min, lat_min, lon_max, lat_max
MAX_REPORTED_ERRORS = 1000  # kept on the job; the CSV report has them all
CONDITIONS = frozenset(Condition.values)


@dataclass
class ImportResult:
    total_rows: int = 0
    imported_rows: int = 0
    errors: list = field(default_factory=list)  # [{"row": n, "field": name, "message": text}]
    dry_run: bool = False

    @property
    def ok(self):
        return not self.errors


def _agency_scope(agency):
    return Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk)


class _RowValidator:
    """Turns one CSV row (dict) into an unsaved Asset, or a list of (field, message)."""

    def __init__(self, agency):
        self.agency = agency
        self.classes = dict(AssetClass.objects.values_list("code", "id"))
        boundary = agency.jurisdiction.boundary
        self.inside = boundary.prepared.contains if boundary is not None else None
        self.now = timezone.now()
        self.numbers = {n: None for n in Asset.objects.filter(agency=agency).exclude(asset_number="")
                        .values_list("asset_number", flat=True)}  # number -> first row in this file (None: on record)

    def _number(self, row, number, errors):
        value = (row.get("asset_number") or "").strip()
        if not value:
            return ""
        if self._bounded(errors, "asset_number", value) is None:
            return ""
        if value in self.numbers:
            first = self.numbers[value]
            errors.append(("asset_number", _("Duplicate asset number %(n)s: already on record for the agency.")
                           % {"n": value} if first is None else
                           _("Duplicate asset number %(n)s: also in row %(row)s.") % {"n": value, "row": first}))
        else:
            self.numbers[value] = number
        return value

    def _location(self, row, errors):
        lon, lat = (row.get("lon") or "").strip(), (row.get("lat") or "").strip()
        if not lon and not lat:
            return self.agency.location
        try:
            point = bounds.geometry(Point(float(lon), float(lat), srid=4326), "lon", "Point")
        except ValidationFailed as exc:
            errors.append(("lon", exc.message))
            return None
        except ValueError:
            errors.append(("lon", _("Longitude and latitude must be decimal degrees.")))
            return None
        if self.inside is not None:
            if not self.inside(point):
                errors.append(("lon", _("The location is outside the agency's jurisdiction.")))
        elif not (CHINA_BBOX[0] <= point.x <= CHINA_BBOX[2] and CHINA_BBOX[1] <= point.y <= CHINA_BBOX[3]):
            errors.append(("lon", _("The location is outside China.")))
        return point

    @staticmethod
    def _bounded(errors, column, value):
        """The bounds the Asset field of the same name declares, as for every other door (kernel.bounds);
        a refusal becomes this row's error."""
        try:
            return bounds.check(Asset, column, value, column)
        except ValidationFailed as exc:
            errors.append((column, exc.message))
            return None

    def __call__(self, row, number=None):
        errors = []
        for name in REQUIRED:
            if not (row.get(name) or "").strip():
                errors.append((name, _("This column is required.")))
        if errors:
            return None, errors
        class_id = self.classes.get(row["asset_class"].strip())
        if class_id is None:
            errors.append(("asset_class", _("Unknown asset class code.")))
        description = self._bounded(errors, "description", row["description"].strip())
        try:
            quantity = self._bounded(errors, "quantity", int(row["quantity"]))
        except ValueError:
            errors.append(("quantity", _("Quantity must be a whole number of at least 1.")))
        value = self._bounded(errors, "original_value", row["original_value"].strip())
        try:
            acquired_on = self._bounded(errors, "acquired_on", date.fromisoformat(row["acquired_on"].strip()))
        except ValueError:
            errors.append(("acquired_on", _("Dates must be ISO (YYYY-MM-DD).")))
        condition = (row.get("condition") or "").strip() or "good"
        if condition not in CONDITIONS:
            errors.append(("condition", _("Condition must be one of new, good, fair, poor.")))
        unit = self._bounded(errors, "unit", (row.get("unit") or "").strip() or "台")
        location = self._location(row, errors)
        asset_number = self._number(row, number, errors)
        if errors:
            return None, errors
        return Asset(agency_id=self.agency.pk, asset_class_id=class_id, description=description, quantity=quantity,
                     unit=unit, original_value=value, acquired_on=acquired_on, condition=condition,
                     location=location, created_at=self.now, asset_number=asset_number), []


def read_rows(text):
    """CSV text → (header, row iterator of dicts)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return reader.fieldnames or [], reader


def import_assets(user, agency, text, *, dry_run=False, progress=None, system=False):
    """Validate every row of the CSV `text`; when all are valid and not `dry_run`, create the assets in one
    transaction (batches of BATCH_SIZE) and audit it. `progress(done, total, phase)` is called per batch.
    `system=True` is the operator's command line (no user); every other door passes the user and the
    permission `import.run` on the agency is required."""
    if not system:
        require(user, "import.run", _agency_scope(agency))
    header, reader = read_rows(text)
    result = ImportResult(dry_run=dry_run)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        result.errors.append({"row": 1, "field": ",".join(missing), "message": _("Missing columns.")})
        return result
    validate = _RowValidator(agency)
    assets = []
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        asset, errors = validate(row, number)
        result.errors.extend({"row": number, "field": f, "message": m} for f, m in errors)
        if asset is not None and not result.errors:
            assets.append(asset)
        result.total_rows += 1
        if progress and result.total_rows % BATCH_SIZE == 0:
            progress(result.total_rows, None, "validate")
    if result.errors or dry_run:
        return result
    with transaction.atomic():
        for start in range(0, len(assets), BATCH_SIZE):
            Asset.objects.bulk_create(assets[start:start + BATCH_SIZE], batch_size=BATCH_SIZE)
            result.imported_rows = min(start + BATCH_SIZE, len(assets))
            if progress:
                progress(result.imported_rows, len(assets), "import")
        audit.record(None if system else user, "asset.imported", agency, jurisdiction=agency.jurisdiction,
                     role="system" if system else "",
                     after={"rows": result.imported_rows, "agency": agency.code})
    return result


def write_error_report(errors, path):
    """The per-row report: row, field, message (UTF-8 with BOM so spreadsheet programs read 中文)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["row", "field", "message"])
        writer.writeheader()
        writer.writerows(neutral_row(error) for error in errors)  # row text came from the uploaded file


XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx file is a ZIP archive
MAX_SHEET_ROWS = 100_000


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet_as_csv(content: bytes) -> bytes:
    """The first worksheet of an XLSX file as the UTF-8 CSV the import reads (dates as ISO dates)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable archive is the same user error
        raise ValidationFailed(_("The file is neither UTF-8 CSV nor a readable XLSX workbook."),
                               field="content") from exc
    out = io.StringIO()
    writer = csv.writer(out)
    for n, row in enumerate(book.worksheets[0].iter_rows(values_only=True)):
        if n >= MAX_SHEET_ROWS:
            raise LimitExceeded(_("A workbook may hold at most %(n)d rows.") % {"n": MAX_SHEET_ROWS},
                                field="content")
        if any(value not in (None, "") for value in row):
            writer.writerow([_cell(value) for value in row])
    book.close()
    return out.getvalue().encode("utf-8")


# --- the Celery-backed job ------------------------------------------------------------------------
def start_import_job(user, agency, *, filename, content: bytes, dry_run=False):
    """Store an uploaded CSV (or the first sheet of an XLSX workbook, as CSV) as an ImportJob (queued).
    The caller enqueues `run_import_job` on commit."""
    require(user, "import.run", _agency_scope(agency))
    if len(content) > MAX_UPLOAD_BYTES:
        raise LimitExceeded(_("The file is larger than %(n)d bytes.") % {"n": MAX_UPLOAD_BYTES}, field="content")
    if content.startswith(XLSX_MAGIC):
        content = sheet_as_csv(content)
        filename = (filename or "import").rsplit(".", 1)[0] + ".csv"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(_("The file must be UTF-8 CSV."), field="content") from exc
    job = ImportJob(agency=agency, dry_run=dry_run, created_by=user)
    job.file.save(f"{uuid.uuid4().hex}.csv", ContentFile(content), save=False)  # the sender's name is only a label
    job.save()
    audit.record(user, "import.queued", job, jurisdiction=agency.jurisdiction,
                 after={"file": job.file.name, "sent_as": bounds.label(filename, 80), "dry_run": dry_run,
                        "bytes": len(content)})
    return job


def run_import_job(job_id):
    """Run a queued job: progress is saved per batch of the validation pass (visible at once) and of the
    write pass (visible when its transaction commits); the job ends succeeded or failed with its errors."""
    job = ImportJob.objects.select_related("agency__jurisdiction", "created_by").get(pk=job_id)
    if job.status != ImportJob.Status.QUEUED:
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)

    def progress(done, total, phase):
        values = {"processed_rows": done} if phase == "validate" else {"imported_rows": done}
        ImportJob.objects.filter(pk=job.pk).update(**values)

    with job.file.open("rb") as fh:
        text = fh.read().decode("utf-8")
    try:
        result = import_assets(job.created_by, job.agency, text, dry_run=job.dry_run, progress=progress)
        errors, total, imported = result.errors, result.total_rows, result.imported_rows
    except Exception as exc:  # noqa: BLE001 - a job records its failure instead of dying silently
        errors, total, imported = [{"row": None, "field": None, "message": str(exc)}], 0, 0
    status = ImportJob.Status.FAILED if errors else ImportJob.Status.SUCCEEDED
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status, total_rows=total, processed_rows=total, imported_rows=imported,
            errors=errors[:MAX_REPORTED_ERRORS], finished_at=timezone.now())
        audit.record(job.created_by, "import.finished", job, jurisdiction=job.agency.jurisdiction,
                     after={"status": status, "rows": total, "imported": imported, "errors": len(errors)})
    job.refresh_from_db()
    return job


def import_jobs_for(user):
    """Import jobs the user may see (read helper for GraphQL; restricted by the permission layer)."""
    return restrict(ImportJob.objects.select_related("agency"), user, "view")
