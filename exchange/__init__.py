"""The core exchange app: items, listings, requests, transfers, approvals."""
