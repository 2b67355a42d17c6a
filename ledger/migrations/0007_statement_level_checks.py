"""PostgreSQL: the ledger checks that read other rows run once per statement over its transition table
instead of once per row, so a posting run of 1,000 transactions costs a few set-based queries, not 5,000.

The invariants are those of 0002_invariants, unchanged:
- a leg cannot be added to a posted transaction (AFTER INSERT … FOR EACH STATEMENT over the new legs);
- a transaction is inserted into an open period, dated inside it (AFTER INSERT over the new rows);
- posting (`posted` turned true) needs ≥ 2 legs whose debits equal their credits, and an open period
  (AFTER UPDATE over the new rows);
- the row trigger keeps the checks that need no other row (insert unposted, a posted transaction is
  immutable and cannot be deleted, only `posted` may change);
- the deferred check at commit sums the legs of unposted transactions only: a posted one was balanced
  when it was posted and can take no leg after that.
SQLite keeps its row triggers (0002): it has no transition tables.
"""
import importlib

from django.db import migrations

from kernel.dbtriggers import run_vendor_sql

NET = "COALESCE(SUM(CASE WHEN l.side = 'debit' THEN l.amount ELSE -l.amount END), 0)"


def _postgresql():
    return [
        "DROP TRIGGER IF EXISTS ledger_leg_into_posted ON ledger_leg",
        "DROP FUNCTION IF EXISTS ledger_leg_guard()",
        """CREATE OR REPLACE FUNCTION ledger_legs_guard() RETURNS trigger AS $$ BEGIN
             IF EXISTS (SELECT 1 FROM new_legs l JOIN ledger_journaltransaction t ON t.id = l.transaction_id
                        WHERE t.posted) THEN
               RAISE EXCEPTION 'ledger: cannot add a leg to a posted transaction' USING ERRCODE = 'P0001';
             END IF; RETURN NULL; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_legs_into_posted AFTER INSERT ON ledger_leg REFERENCING NEW TABLE AS new_legs
           FOR EACH STATEMENT EXECUTE FUNCTION ledger_legs_guard()""",
        """CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$ BEGIN
             IF (SELECT posted FROM ledger_journaltransaction WHERE id = NEW.transaction_id) IS NOT TRUE
                AND (SELECT COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END), 0)
                     FROM ledger_leg WHERE transaction_id = NEW.transaction_id) <> 0 THEN
               RAISE EXCEPTION 'ledger: unbalanced transaction %', NEW.transaction_id USING ERRCODE = '23514';
             END IF; RETURN NULL; END; $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION ledger_txn_guard() RETURNS trigger AS $$ BEGIN
             IF TG_OP = 'DELETE' THEN
               IF OLD.posted THEN RAISE EXCEPTION 'ledger: a posted transaction cannot be deleted'; END IF;
               RETURN OLD;
             END IF;
             IF TG_OP = 'INSERT' AND NEW.posted THEN RAISE EXCEPTION 'ledger: insert unposted, then post'; END IF;
             IF TG_OP = 'UPDATE' THEN
               IF OLD.posted THEN RAISE EXCEPTION 'ledger: a posted transaction is immutable'; END IF;
               IF NEW.period_id <> OLD.period_id OR NEW.date <> OLD.date OR NEW.kind <> OLD.kind THEN
                 RAISE EXCEPTION 'ledger: only the posted flag may change';
               END IF;
             END IF;
             RETURN NEW; END; $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION ledger_txns_inserted() RETURNS trigger AS $$ BEGIN
             IF EXISTS (SELECT 1 FROM new_txns t JOIN ledger_settlementperiod p ON p.id = t.period_id
                        WHERE p.status <> 'open') THEN
               RAISE EXCEPTION 'ledger: the period is closed';
             END IF;
             IF EXISTS (SELECT 1 FROM new_txns t LEFT JOIN ledger_settlementperiod p ON p.id = t.period_id
                        AND t.date BETWEEN p.start AND p."end" WHERE p.id IS NULL) THEN
               RAISE EXCEPTION 'ledger: date outside its period';
             END IF;
             RETURN NULL; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_txns_inserted AFTER INSERT ON ledger_journaltransaction
           REFERENCING NEW TABLE AS new_txns FOR EACH STATEMENT EXECUTE FUNCTION ledger_txns_inserted()""",
        f"""CREATE OR REPLACE FUNCTION ledger_txns_posted() RETURNS trigger AS $$ BEGIN
             IF EXISTS (SELECT 1 FROM new_txns t JOIN ledger_settlementperiod p ON p.id = t.period_id
                        WHERE t.posted AND p.status <> 'open') THEN
               RAISE EXCEPTION 'ledger: the period is closed';
             END IF;
             IF EXISTS (SELECT 1 FROM new_txns t LEFT JOIN ledger_leg l ON l.transaction_id = t.id WHERE t.posted
                        GROUP BY t.id HAVING {NET} <> 0 OR COUNT(l.id) < 2) THEN
               RAISE EXCEPTION 'ledger: unbalanced transaction';
             END IF;
             RETURN NULL; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_txns_posted AFTER UPDATE ON ledger_journaltransaction
           REFERENCING NEW TABLE AS new_txns FOR EACH STATEMENT EXECUTE FUNCTION ledger_txns_posted()""",
    ]


def _revert_postgresql():
    invariants = importlib.import_module("ledger.migrations.0002_invariants")
    drops = ["DROP TRIGGER IF EXISTS ledger_legs_into_posted ON ledger_leg",
             "DROP FUNCTION IF EXISTS ledger_legs_guard()",
             "DROP TRIGGER IF EXISTS ledger_txns_inserted ON ledger_journaltransaction",
             "DROP FUNCTION IF EXISTS ledger_txns_inserted()",
             "DROP TRIGGER IF EXISTS ledger_txns_posted ON ledger_journaltransaction",
             "DROP FUNCTION IF EXISTS ledger_txns_posted()",
             "DROP TRIGGER IF EXISTS ledger_txn_guard ON ledger_journaltransaction",
             "DROP TRIGGER IF EXISTS ledger_leg_balanced ON ledger_leg",
             "DROP TRIGGER IF EXISTS ledger_period_guard ON ledger_settlementperiod",
             "DROP TRIGGER IF EXISTS ledger_instruction_guard ON ledger_paymentinstruction"]
    return drops + invariants._postgresql()


def _install(vendor):
    return _postgresql() if vendor == "postgresql" else []


def _revert(vendor):
    return _revert_postgresql() if vendor == "postgresql" else []


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_disposal_proceeds")]

    operations = [migrations.RunPython(run_vendor_sql(_install), run_vendor_sql(_revert))]
