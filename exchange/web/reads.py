"""The two reads the workbench needs that `exchange.selectors` / `exchange.services` do not offer yet.
Both go through the permission layer; move them to the exchange core when it grows them."""
from django.utils import timezone

from exchange.models import TransferRequest
from exchange.services import transfers
from regions.permissions import Scope, require, restrict


def requests_for(user):
    """Requests visible to the user (either party), with what the request list shows."""
    return restrict(TransferRequest.objects.select_related(
        "agency__jurisdiction", "listing__agency__jurisdiction", "transfer"), user)


def standards_check(user, listing, agency, quantity):
    """The standards check `create_request` runs, for the request form's "check" button: the breaches
    of the standards in force today, nothing saved. Raises PermissionDenied like `create_request`."""
    require(user, "request.create", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    standards = transfers._standards(listing.region, timezone.localdate())
    return {"standards": standards, "breaches": transfers._breaches(standards, listing, agency, quantity)}
