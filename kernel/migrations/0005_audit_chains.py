"""One audit chain per region (kernel.audit): the `chain` column (null: the global chain, which every event
before this migration belongs to), its head index, and on PostgreSQL `audit_chain_head`, which takes the
chain's lock and reads its head in one round trip.

A transaction appends to one chain only: the one whose lock it already holds, else the chain it asks for.
So no transaction ever waits for two chain locks (no deadlock between chains), and writers of different
regions never wait for each other. The head is read by a statement that starts after the lock is granted
(a VOLATILE function takes a fresh snapshot per statement), so it sees the head the previous holder committed.
"""
from django.db import migrations, models

from kernel.dbtriggers import run_vendor_sql

CHAIN_LOCK = 7_140_001  # kernel.audit.CHAIN_LOCK at the time of this migration


def _install(vendor):
    if vendor != "postgresql":
        return []
    return [f"""CREATE OR REPLACE FUNCTION audit_chain_head(wanted integer, OUT chain integer, OUT head varchar)
        AS $$
        DECLARE
          held bigint := (SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted
                          AND pid = pg_backend_pid() AND classid = {CHAIN_LOCK} AND objsubid = 2 LIMIT 1);
          chain_key integer := COALESCE(held, COALESCE(wanted, 0));
        BEGIN
          PERFORM pg_advisory_xact_lock({CHAIN_LOCK}, chain_key);
          chain := NULLIF(chain_key, 0);
          IF chain IS NULL THEN
            head := (SELECT e.hash FROM exchange_auditevent e WHERE e.chain IS NULL ORDER BY e.id DESC LIMIT 1);
          ELSE
            head := (SELECT e.hash FROM exchange_auditevent e WHERE e.chain = chain_key ORDER BY e.id DESC LIMIT 1);
          END IF;
        END; $$ LANGUAGE plpgsql VOLATILE"""]


def _drop(vendor):
    return ["DROP FUNCTION IF EXISTS audit_chain_head(integer)"] if vendor == "postgresql" else []


class Migration(migrations.Migration):
    dependencies = [("kernel", "0004_rate_limit_cache_table")]

    operations = [
        migrations.AddField(model_name="auditevent", name="chain", field=models.IntegerField(blank=True, null=True)),
        migrations.AddIndex(model_name="auditevent",
                            index=models.Index(fields=["chain", "id"], name="audit_chain_head")),
        migrations.RunPython(run_vendor_sql(_install), run_vendor_sql(_drop)),
    ]
