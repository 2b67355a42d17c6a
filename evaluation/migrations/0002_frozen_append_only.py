"""A frozen evaluation never changes: its row, facts and scores refuse UPDATE and DELETE in the database."""
from django.db import migrations

from kernel.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]

    operations = [append_only("evaluation_evaluation"), append_only("evaluation_evaluationfact"),
                  append_only("evaluation_evaluationscore")]
