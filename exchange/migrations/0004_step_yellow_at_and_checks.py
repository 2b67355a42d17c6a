import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q


class Migration(migrations.Migration):
    dependencies = [("exchange", "0003_idempotency_and_import_jobs")]

    operations = [
        migrations.AddField(
            model_name="approvalstep", name="yellow_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now,
                                       help_text="two thirds of the time between opening and deadline",
                                       verbose_name="yellow light from"),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="approvalstep",
            constraint=models.CheckConstraint(condition=Q(yellow_at__gte=F("opened_at"), due_at__gte=F("yellow_at")),
                                              name="step_times_ordered"),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(condition=Q(received_quantity__isnull=True)
                                              | Q(received_quantity__lte=F("quantity")),
                                              name="transfer_received_within_allocated"),
        ),
    ]
