"""Audit checkpoints (append-only), and PostgreSQL's statement-level TRUNCATE guards on every protected
table: the trail and its checkpoints, legs, journal transactions, closing balances, periods and payment
instructions."""
import django.utils.timezone
from django.db import migrations, models

from kernel.dbtriggers import append_only, no_truncate

PROTECTED = ("exchange_auditevent", "kernel_auditcheckpoint", "ledger_leg", "ledger_journaltransaction",
             "ledger_closingbalance", "ledger_settlementperiod", "ledger_paymentinstruction")


class Migration(migrations.Migration):

    dependencies = [
        ('kernel', '0002_english_labels'),
        ('ledger', '0002_invariants'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('kind', models.CharField(choices=[('daily', 'daily'), ('settlement_close', 'settlement close')], max_length=20, verbose_name='kind')),
                ('reference', models.CharField(blank=True, max_length=80, verbose_name='reference')),
                ('head_event_id', models.BigIntegerField(null=True, verbose_name='head event id')),
                ('head_hash', models.CharField(max_length=64, verbose_name='head hash')),
                ('event_count', models.PositiveBigIntegerField(verbose_name='events')),
            ],
            options={
                'verbose_name': 'audit checkpoint',
                'verbose_name_plural': 'audit checkpoints',
                'ordering': ['id'],
            },
        ),
        append_only("kernel_auditcheckpoint"),
        no_truncate(*PROTECTED),
    ]
