import json

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import DomainError
from regions.services.boundaries import import_boundaries


class Command(BaseCommand):
    help = "Import jurisdictions and their boundaries from a GeoJSON file (idempotent, one transaction)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            result = import_boundaries(data)
        except (OSError, ValueError, KeyError, DomainError) as exc:
            raise CommandError(f"import failed, nothing changed: {exc}") from exc
        self.stdout.write(f"created {len(result.created)}, updated {len(result.updated)}, "
                          f"unchanged {len(result.unchanged)}")
