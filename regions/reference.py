"""Per-process caches of the regions' reference rows (kernel.refcache): regions and jurisdictions (without
their outlines, which JurisdictionType loads on demand), and agencies (the directory every listing names)."""
from kernel.refcache import RowCache

from .models import Agency, Jurisdiction, Region

REGIONS = RowCache(Region)
JURISDICTIONS = RowCache(Jurisdiction, defer=("boundary", "boundary_simplified"))
AGENCIES = RowCache(Agency)
