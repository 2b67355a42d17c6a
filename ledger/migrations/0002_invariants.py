"""Ledger invariants held by the database itself, on SQLite/SpatiaLite and PostgreSQL.

- legs: amount > 0 (CHECK, in 0001), append-only (UPDATE/DELETE refused), and no leg may be added to a
  posted transaction;
- transactions are inserted unposted and posted by flipping `posted` to true, which a trigger allows only
  when the transaction has ≥ 2 legs whose debits equal their credits (summed in exact fen) and its period
  is open; a posted transaction cannot be updated or deleted; a transaction cannot be inserted already
  posted, into a closed period, or dated outside its period;
- on PostgreSQL a DEFERRABLE INITIALLY DEFERRED constraint trigger also checks every transaction touched
  by a leg insert at commit, so not even an unposted draft can be committed unbalanced (SQLite has no
  deferred triggers: there an unbalanced draft may exist but can never be posted, and balances count
  posted transactions only);
- a closed period cannot be reopened or edited; closing balances are append-only; a payment instruction
  cannot be deleted, its parties/amount never change, and once confirmed it is frozen.
"""
from django.db import migrations

from kernel.dbtriggers import append_only, run_vendor_sql

FEN = "CAST(ROUND(amount * 100) AS INTEGER)"
NET = f"SELECT COALESCE(SUM(CASE WHEN side = 'debit' THEN {FEN} ELSE -{FEN} END), 0) FROM ledger_leg"


def _sqlite():
    return [
        """CREATE TRIGGER ledger_leg_into_posted BEFORE INSERT ON ledger_leg
           WHEN (SELECT posted FROM ledger_journaltransaction WHERE id = NEW.transaction_id) = 1
           BEGIN SELECT RAISE(ABORT, 'ledger: cannot add a leg to a posted transaction'); END""",
        """CREATE TRIGGER ledger_txn_insert BEFORE INSERT ON ledger_journaltransaction BEGIN
             SELECT RAISE(ABORT, 'ledger: insert unposted, then post') WHERE NEW.posted = 1;
             SELECT RAISE(ABORT, 'ledger: the period is closed') WHERE
               (SELECT status FROM ledger_settlementperiod WHERE id = NEW.period_id) <> 'open';
             SELECT RAISE(ABORT, 'ledger: date outside its period') WHERE NOT EXISTS (
               SELECT 1 FROM ledger_settlementperiod p WHERE p.id = NEW.period_id
               AND NEW.date BETWEEN p.start AND p."end");
           END""",
        """CREATE TRIGGER ledger_txn_update BEFORE UPDATE ON ledger_journaltransaction BEGIN
             SELECT RAISE(ABORT, 'ledger: a posted transaction is immutable') WHERE OLD.posted = 1;
             SELECT RAISE(ABORT, 'ledger: only the posted flag may change') WHERE
               NEW.period_id IS NOT OLD.period_id OR NEW.date IS NOT OLD.date OR NEW.kind IS NOT OLD.kind;
             SELECT RAISE(ABORT, 'ledger: the period is closed') WHERE NEW.posted = 1 AND
               (SELECT status FROM ledger_settlementperiod WHERE id = NEW.period_id) <> 'open';
             SELECT RAISE(ABORT, 'ledger: unbalanced transaction') WHERE NEW.posted = 1 AND (
               ({NET} WHERE transaction_id = NEW.id) <> 0
               OR (SELECT COUNT(*) FROM ledger_leg WHERE transaction_id = NEW.id) < 2);
           END""".replace("{NET}", NET),
        """CREATE TRIGGER ledger_txn_delete BEFORE DELETE ON ledger_journaltransaction WHEN OLD.posted = 1
           BEGIN SELECT RAISE(ABORT, 'ledger: a posted transaction cannot be deleted'); END""",
        """CREATE TRIGGER ledger_period_frozen BEFORE UPDATE ON ledger_settlementperiod WHEN OLD.status = 'closed'
           BEGIN SELECT RAISE(ABORT, 'ledger: a closed period is frozen'); END""",
        """CREATE TRIGGER ledger_period_no_delete BEFORE DELETE ON ledger_settlementperiod
           BEGIN SELECT RAISE(ABORT, 'ledger: periods cannot be deleted'); END""",
        """CREATE TRIGGER ledger_instruction_frozen BEFORE UPDATE ON ledger_paymentinstruction
           WHEN OLD.transaction_id IS NOT NULL OR NEW.amount IS NOT OLD.amount OR NEW.payer_id IS NOT OLD.payer_id
             OR NEW.payee_id IS NOT OLD.payee_id OR NEW.period_id IS NOT OLD.period_id
           BEGIN SELECT RAISE(ABORT, 'ledger: payment instructions are frozen'); END""",
        """CREATE TRIGGER ledger_instruction_no_delete BEFORE DELETE ON ledger_paymentinstruction
           BEGIN SELECT RAISE(ABORT, 'ledger: payment instructions are frozen'); END""",
    ]


def _postgresql():
    return [
        """CREATE OR REPLACE FUNCTION ledger_leg_guard() RETURNS trigger AS $$ BEGIN
             IF (SELECT posted FROM ledger_journaltransaction WHERE id = NEW.transaction_id) THEN
               RAISE EXCEPTION 'ledger: cannot add a leg to a posted transaction' USING ERRCODE = 'P0001';
             END IF; RETURN NEW; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_leg_into_posted BEFORE INSERT ON ledger_leg
           FOR EACH ROW EXECUTE FUNCTION ledger_leg_guard()""",
        """CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$ BEGIN
             IF (SELECT COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END), 0)
                 FROM ledger_leg WHERE transaction_id = NEW.transaction_id) <> 0 THEN
               RAISE EXCEPTION 'ledger: unbalanced transaction %', NEW.transaction_id USING ERRCODE = '23514';
             END IF; RETURN NULL; END; $$ LANGUAGE plpgsql""",
        """CREATE CONSTRAINT TRIGGER ledger_leg_balanced AFTER INSERT ON ledger_leg
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()""",
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
             IF (TG_OP = 'INSERT' OR NEW.posted) AND (SELECT status FROM ledger_settlementperiod
                 WHERE id = NEW.period_id) <> 'open' THEN
               RAISE EXCEPTION 'ledger: the period is closed';
             END IF;
             IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM ledger_settlementperiod p WHERE p.id = NEW.period_id
                 AND NEW.date BETWEEN p.start AND p."end") THEN
               RAISE EXCEPTION 'ledger: date outside its period';
             END IF;
             IF TG_OP = 'UPDATE' AND NEW.posted AND (
                 (SELECT COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END), 0)
                  FROM ledger_leg WHERE transaction_id = NEW.id) <> 0
                 OR (SELECT COUNT(*) FROM ledger_leg WHERE transaction_id = NEW.id) < 2) THEN
               RAISE EXCEPTION 'ledger: unbalanced transaction';
             END IF;
             RETURN NEW; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_txn_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_journaltransaction
           FOR EACH ROW EXECUTE FUNCTION ledger_txn_guard()""",
        """CREATE OR REPLACE FUNCTION ledger_period_guard() RETURNS trigger AS $$ BEGIN
             IF TG_OP = 'DELETE' OR OLD.status = 'closed' THEN
               RAISE EXCEPTION 'ledger: a closed period is frozen and periods cannot be deleted';
             END IF; RETURN NEW; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_period_guard BEFORE UPDATE OR DELETE ON ledger_settlementperiod
           FOR EACH ROW EXECUTE FUNCTION ledger_period_guard()""",
        """CREATE OR REPLACE FUNCTION ledger_instruction_guard() RETURNS trigger AS $$ BEGIN
             IF TG_OP = 'DELETE' OR OLD.transaction_id IS NOT NULL OR NEW.amount <> OLD.amount
                OR NEW.payer_id <> OLD.payer_id OR NEW.payee_id <> OLD.payee_id OR NEW.period_id <> OLD.period_id THEN
               RAISE EXCEPTION 'ledger: payment instructions are frozen';
             END IF; RETURN NEW; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER ledger_instruction_guard BEFORE UPDATE OR DELETE ON ledger_paymentinstruction
           FOR EACH ROW EXECUTE FUNCTION ledger_instruction_guard()""",
    ]


def _install(vendor):
    return _postgresql() if vendor == "postgresql" else _sqlite()


def _noop(vendor):
    return []


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        append_only("ledger_leg"),
        append_only("ledger_closingbalance"),
        migrations.RunPython(run_vendor_sql(_install), run_vendor_sql(_noop)),
    ]
