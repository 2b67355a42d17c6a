from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = _("Audit trail")

    def ready(self):
        from django.db.models.signals import post_migrate

        from kernel import bounds, pgroles, sqlite

        post_migrate.connect(pgroles.grant_app_role, dispatch_uid="kernel.pgroles.grant_app_role")

        sqlite.connect()  # WAL, busy timeout, recursive_triggers on every SQLite connection
        bounds.connect()  # every project model's values are bounded before they reach the database
