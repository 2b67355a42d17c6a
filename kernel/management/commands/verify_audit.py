from django.core.management.base import BaseCommand, CommandError

from kernel.audit import verify_chain
from kernel.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken link."

    def handle(self, *args, **options):
        broken = verify_chain()
        if broken is not None:
            raise CommandError(f"audit chain broken at event {broken.pk} ({broken})")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {AuditEvent.objects.count()} events"))
