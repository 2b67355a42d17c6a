from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    """The rest of the 公物仓 lifecycle around transfers: notices of its steps, disposal, wants,
    purchase checks, loans, webhooks."""

    name = "lifecycle"
    label = "lifecycle"
    verbose_name = _("Lifecycle")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported in ready(): models can be imported only once the app registry is loaded.
        from django.db.models.signals import post_save

        from kernel.models import AuditEvent
        from lifecycle import notices

        post_save.connect(notices.on_audit_event, sender=AuditEvent, dispatch_uid="lifecycle.notices")
