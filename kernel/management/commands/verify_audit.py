from django.core.management.base import BaseCommand, CommandError

from kernel.audit import verify_trail


class Command(BaseCommand):
    help = ("Verify the audit trail: its hash chain, and against the last checkpoint (deleted newest events, "
            "a rewritten head).")

    def handle(self, *args, **options):
        problems, count = verify_trail()
        if problems:
            raise CommandError("audit trail NOT intact: " + "; ".join(problems))
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {count} events"))
