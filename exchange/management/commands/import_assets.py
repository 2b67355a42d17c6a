"""manage.py import_assets FILE.csv --agency CODE [--dry-run] [--errors REPORT.csv] [--user USERNAME]"""
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from exchange.services import bulk_import
from kernel.errors import DomainError
from regions.models import Agency


class Command(BaseCommand):
    help = ("Import assets of one agency from a CSV file: every row is validated first, a per-row error "
            "report is written, and the rows are imported all-or-nothing. Columns: "
            + ", ".join(bulk_import.COLUMNS))

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--agency", required=True, help="the agency's unified social credit code")
        parser.add_argument("--dry-run", action="store_true", help="validate and report only")
        parser.add_argument("--errors", help="error report path (default: FILE.errors.csv next to the input)")
        parser.add_argument("--user", help="act as this user (permission import.run is checked); "
                                           "default: the operator, audited as system")

    def handle(self, file, agency, dry_run, errors, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        agency_obj = Agency.objects.select_related("jurisdiction").filter(code=agency).first()
        if agency_obj is None:
            raise CommandError(f"no agency with code {agency}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user}")
        report = Path(errors) if errors else path.with_name(path.stem + ".errors.csv")
        started = time.monotonic()
        try:
            result = bulk_import.import_assets(actor, agency_obj, path.read_text(encoding="utf-8"),
                                               dry_run=dry_run, progress=self._progress, system=actor is None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except UnicodeDecodeError as exc:
            raise CommandError("the file must be UTF-8 CSV") from exc
        sys.stderr.write("\n")
        bulk_import.write_error_report(result.errors, report)
        seconds = time.monotonic() - started
        if result.errors:
            raise CommandError(f"{len(result.errors)} error(s) in {result.total_rows} rows; nothing imported. "
                               f"Report: {report}")
        verb = "validated (dry run)" if dry_run else "imported"
        self.stdout.write(f"{result.total_rows} rows {verb} in {seconds:.1f} s; report (empty): {report}")

    def _progress(self, done, total, phase):
        text = f"{phase}: {done}" + (f"/{total} ({100 * done // max(total, 1)}%)" if total else " rows")
        sys.stderr.write(f"\r{text:<40}")
        sys.stderr.flush()
