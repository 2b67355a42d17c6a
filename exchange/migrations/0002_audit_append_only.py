from django.db import migrations

from kernel.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]
    operations = [append_only("exchange_auditevent")]
