"""The GraphQL kernel every app's schema builds on: DomainMutation and typed errors, the paged connection,
scalars, the scoped base type, query limits, idempotency keys and the error middleware."""
