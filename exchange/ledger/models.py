"""Double-entry compensation ledger (filled in by the ledger issue)."""
