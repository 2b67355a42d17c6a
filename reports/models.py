"""Report jobs (filled in by the reports issue)."""
