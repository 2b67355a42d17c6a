"""Write the table of error codes into graphql/README.md (run by `make schema`)."""
from django.conf import settings
from django.core.management.base import BaseCommand

from api.errors import with_error_code_table


class Command(BaseCommand):
    help = "Regenerate the error-code table of graphql/README.md from the ErrorCode enum."

    def handle(self, *args, **options):
        readme = settings.BASE_DIR / "graphql" / "README.md"
        readme.write_text(with_error_code_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
        self.stdout.write(f"wrote the error-code table of {readme}")
