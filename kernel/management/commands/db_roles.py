from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kernel import pgroles


class Command(BaseCommand):
    help = ("PostgreSQL: create the application's login role (DATABASE_URL's user, owning nothing) and grant "
            "it its privileges; run as the owner (GWC_DB_AS_OWNER=1, DATABASE_OWNER_URL).")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("db_roles: not PostgreSQL, nothing to do")
            return
        if not settings.DATABASE_APP_ROLE or connection.settings_dict["USER"] == settings.DATABASE_APP_ROLE:
            raise CommandError("set DATABASE_OWNER_URL (the owner) and run with GWC_DB_AS_OWNER=1")
        pgroles.create_app_role(password=settings.DATABASE_APP_PASSWORD or None)
        pgroles.grant_app_role()
        self.stdout.write(f"db_roles: {settings.DATABASE_APP_ROLE} may read and write, owns nothing")
