"""Render any report to a file, for operators (no permission check: shell access is the authority)."""
import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import DomainError
from regions.models import Jurisdiction, Region
from reports import samples, services
from reports.data import data_sha256
from reports.models import ReportKind


class Command(BaseCommand):
    help = "Render a report to a PDF file: render_report <kind> [--region yrd] [--jurisdiction CODE] " \
           "[--transfer ID] [--from D --to D] --out FILE (or --sample [--rows N] for sample data)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ReportKind.values)
        parser.add_argument("--region", help="region code, e.g. yrd")
        parser.add_argument("--jurisdiction", help="GB/T 2260 code of one jurisdiction")
        parser.add_argument("--transfer", type=int, help="transfer id (transfer certificate)")
        parser.add_argument("--from", dest="period_from", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="period_to", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--sample", action="store_true", help="render built-in sample data instead")
        parser.add_argument("--rows", type=int, default=200, help="sample allocation report rows")
        parser.add_argument("--out", required=True, type=Path)

    def handle(self, kind, out, **o):
        started = time.perf_counter()
        try:
            if o["sample"]:
                data = samples.allocation(o["rows"]) if kind == ReportKind.ALLOCATION_REPORT \
                    else samples.SAMPLES[kind]()
            else:
                data = services.build_data(kind, transfer_id=o["transfer"], period_from=o["period_from"],
                                           period_to=o["period_to"], **self._scope(kind, o))
            pdf = services.render_document(data)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        out.write_bytes(pdf)
        self.stdout.write(f"wrote {out}: {len(pdf):,} bytes, {services.count_pages(pdf)} pages, "
                          f"{time.perf_counter() - started:.2f} s, data SHA-256 {data_sha256(data)}")

    def _scope(self, kind, o):
        if kind == ReportKind.TRANSFER_CERTIFICATE:
            if not o["transfer"]:
                raise CommandError("--transfer is required for a transfer certificate")
            return {}
        jurisdiction = None
        if o["jurisdiction"]:
            jurisdiction = Jurisdiction.objects.filter(code=o["jurisdiction"]).first()
            if jurisdiction is None:
                raise CommandError(f"no jurisdiction {o['jurisdiction']}")
        region = Region.objects.filter(code=o["region"]).first() if o["region"] else None
        if region is None and jurisdiction is not None:
            region = services._region_of(jurisdiction, None)
        if region is None:
            raise CommandError("give --region (or --jurisdiction)")
        return {"region": region, "jurisdiction": jurisdiction}
