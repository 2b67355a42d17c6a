"""The audit trail moves from the exchange app to the kernel in Django's state only: the table
`exchange_auditevent` and its append-only triggers stay, no row moves."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("regions", "0002_idempotency_and_import_jobs"),
        ("exchange", "0005_auditevent_to_kernel"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='AuditEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                    ('role', models.CharField(blank=True, max_length=40, verbose_name='role')),
                    ('action', models.CharField(db_index=True, max_length=60, verbose_name='action')),
                    ('object_type', models.CharField(max_length=60, verbose_name='object type')),
                    ('object_id', models.CharField(max_length=40, verbose_name='object id')),
                    ('before', models.JSONField(blank=True, null=True, verbose_name='before')),
                    ('after', models.JSONField(blank=True, null=True, verbose_name='after')),
                    ('prev_hash', models.CharField(max_length=64)),
                    ('hash', models.CharField(max_length=64, unique=True)),
                    ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                    ('jurisdiction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.jurisdiction')),
                    ('region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region')),
                    ('via_token', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.apitoken')),
                    ('transfer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='exchange.transfer')),
                ],
                options={
                    'verbose_name': '留痕事件 audit event',
                    'verbose_name_plural': '留痕事件 audit events',
                    'db_table': 'exchange_auditevent',
                    'ordering': ['id'],
                },
            ),
        ]),
    ]
