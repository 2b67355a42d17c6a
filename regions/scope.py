"""Where an object lives, for the permission layer. Models return one from `permission_scope()`."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """Where an object lives, for `require`: its region, jurisdiction and agency (any may be None)."""

    region_id: int | None = None
    jurisdiction_id: int | None = None
    agency_id: int | None = None
