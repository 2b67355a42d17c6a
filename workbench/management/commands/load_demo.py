"""The project's demo: every app's loader in layer order (regions, exchange, evaluation). It lives in the
workbench, the app on top, because it reaches into all the others."""
from django.core.management.base import BaseCommand
from django.db import transaction

from evaluation import demo as evaluation_demo
from exchange import demo as exchange_demo
from regions import demo as regions_demo
from regions.models import Region


class Command(BaseCommand):
    help = "Load the demo data (Yangtze River Delta) once; a second run does nothing unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="re-run the (idempotent) loaders")

    def handle(self, force=False, **options):
        if Region.objects.filter(code="yrd").exists() and not force:
            self.stdout.write("demo data already loaded")
            return
        with transaction.atomic():
            regions_demo.load_all()
            exchange_demo.load_all()
            evaluation_demo.load_all()
        self.stdout.write(self.style.SUCCESS(
            f"demo data loaded; users {', '.join(u[0] for u in regions_demo.DEMO_USERS)} and 'admin' "
            f"have password {regions_demo.DEMO_PASSWORD!r}"))
