"""AuditEvent now belongs to the kernel app (kernel/0001_initial): removed from this app's state only,
the table and its rows stay where they are."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("exchange", "0004_step_yellow_at_and_checks")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditEvent")]),
    ]
