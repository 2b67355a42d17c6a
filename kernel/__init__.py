"""What every app uses and that depends on no app: domain errors, the audit trail, working days,
money and geodesic helpers, and the SQL that makes tables append-only."""
