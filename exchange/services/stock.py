"""The listing's stock: take a quantity for a transfer and give it back. One conditional UPDATE each, so
`quantity_available` never goes below zero (a CHECK backs it) and units never vanish."""
from django.db.models import Case, F, Value, When

from exchange.models import Listing
from kernel.errors import AlreadyAllocated


def take(listing, quantity):
    """Take `quantity` of the listing (closing it when nothing is left) and mark a fully taken item
    allocated; `AlreadyAllocated` when not enough is available. Refreshes `listing`."""
    taken = Listing.objects.filter(pk=listing.pk, status=Listing.Status.OPEN,
                                   quantity_available__gte=quantity).update(
        quantity_available=F("quantity_available") - quantity,
        status=Case(When(quantity_available=quantity, then=Value(Listing.Status.ALLOCATED)), default=F("status")))
    if not taken:
        raise AlreadyAllocated(field="listing_id")
    listing.refresh_from_db(fields=["quantity_available", "status"])
    item = listing.asset or listing.office_space
    if listing.status == Listing.Status.ALLOCATED:
        item.status = type(item).Status.ALLOCATED
        item.save(update_fields=["status"])


def give_back(transfer, quantity=None):
    """Give `quantity` (default: the transfer's) back to its listing (reopening a fully allocated one)."""
    quantity = transfer.quantity if quantity is None else quantity
    Listing.objects.filter(pk=transfer.listing_id).update(
        quantity_available=F("quantity_available") + quantity,
        status=Case(When(status=Listing.Status.ALLOCATED, then=Value(Listing.Status.OPEN)), default=F("status")))
    listing = Listing.objects.select_related("asset", "office_space").get(pk=transfer.listing_id)
    item = listing.asset or listing.office_space
    if listing.status == Listing.Status.OPEN:
        item.status = type(item).Status.LISTED
    elif listing.quantity_available == listing.quantity:
        item.status = type(item).Status.IDLE
    item.save(update_fields=["status"])
