"""Retry a whole transaction when the database says to: SQLite's "database is locked" (another writer
held the lock past the busy timeout, or a read snapshot went stale) and PostgreSQL's serialization failure
(40001) and deadlock (40P01). The transaction was rolled back entirely, so running it again is safe."""
import logging
import random
import sqlite3
import time

from django.db import OperationalError, transaction

log = logging.getLogger("kernel.retry")
ATTEMPTS = 6
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")


def is_transient(exc):
    seen = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        if isinstance(seen, sqlite3.OperationalError) and str(seen).startswith(SQLITE_TRANSIENT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def with_retry(work, attempts=ATTEMPTS, using=None):
    """`work()` (which opens its own transaction) run again, after a short random back-off, while it fails
    with a transient database error — only when no outer transaction is open (else the outer one must
    be retried, and its owner decides)."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if (attempt == attempts or not is_transient(exc)
                    or transaction.get_connection(using).in_atomic_block):
                raise
            log.info("transient database error (%s), retrying the transaction (%d/%d)", exc, attempt, attempts)
            time.sleep(random.uniform(0.01, 0.05) * 2 ** attempt)
    raise AssertionError("unreachable")
