"""Writes on items: register assets (with photos) and office space, mark idle (opens a listing with
screening windows from the standards in force), withdraw a listing."""

from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Asset, AssetPhoto, Condition, Listing, OfficeSpace, TransferRequest
from exchange.services import images
from exchange.services.common import locked, region_extent, region_for, require_text
from kernel import audit, bounds
from kernel.errors import InvalidState, ValidationFailed
from regions.models import Region
from regions.permissions import require
from regions.scope import Scope
from regions.services import duties
from regions.services.standards import standard_in_force


def _agency_scope(agency):
    return Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk)


def _snapshot(obj, fields):
    return {name: getattr(obj, name) if not isinstance(getattr(obj, name), Point) else getattr(obj, name).coords
            for name in fields}


ASSET_FIELDS = ("agency_id", "asset_class_id", "description", "quantity", "unit", "original_value", "acquired_on",
                "condition", "status", "asset_number")


def _location(agency, location, override_reason):
    """The item's point: the agency's address point by default; otherwise inside the region's bounding box
    and the agency's jurisdiction (or outside it with a reason, kept in the audit trail)."""
    if location is None:
        return agency.location, ""
    reason = bounds.point_in_region(location, "location", jurisdiction=agency.jurisdiction,
                                    region_extent=region_extent(agency.jurisdiction),
                                    override_reason=override_reason)
    return location, reason


@transaction.atomic
def register_asset(user, *, agency, asset_class, description, original_value, acquired_on, quantity=1, unit="台",
                   condition="good", location=None, location_override_reason="", asset_number=""):
    """Each value is checked against the bounds its Asset field declares (kernel.bounds.check)."""
    require(user, "asset.register", _agency_scope(agency))
    asset_number = bounds.check(Asset, "asset_number", (asset_number or "").strip())
    if asset_number and Asset.objects.filter(agency=agency, asset_number=asset_number).exists():
        raise ValidationFailed(_("Duplicate asset number %(n)s: already on record for the agency.")
                               % {"n": asset_number}, field="asset_number", code="duplicate")
    description = bounds.check(Asset, "description",
                               require_text(description, "description", _("A description is required.")))
    if quantity is None:
        raise ValidationFailed(_("Quantity must be at least 1."), field="quantity")
    quantity = bounds.check(Asset, "quantity", quantity)
    unit = bounds.check(Asset, "unit", unit or "台")
    if original_value is None:
        raise ValidationFailed(_("Original value must be a non-negative CNY amount with 2 decimals."),
                               field="original_value")
    original_value = bounds.check(Asset, "original_value", original_value)
    acquired_on = bounds.check(Asset, "acquired_on", acquired_on)
    if condition not in Condition.values:
        raise ValidationFailed(_("Unknown condition."), field="condition")
    location, reason = _location(agency, location, location_override_reason)
    asset = Asset.objects.create(
        agency=agency, asset_class=asset_class, description=description, quantity=quantity, unit=unit,
        original_value=original_value, acquired_on=acquired_on, condition=condition, location=location,
        asset_number=asset_number)
    audit.record(user, "asset.registered", asset,
                 after={**_snapshot(asset, ASSET_FIELDS), **({"location_override_reason": reason} if reason else {})},
                 jurisdiction=agency.jurisdiction)
    return asset


@transaction.atomic
def add_photo(user, asset, *, filename, content: bytes):
    """Attach a photo: at most 5 MB, decoded and re-encoded (exchange.services.images), stored under a
    generated name with the extension of the decoded format. The client's file name is kept only as a
    label in the audit trail."""
    require(user, "asset.register", asset)
    image = images.reencode(content)
    name = image.generated_name()
    photo = AssetPhoto(asset=asset, content_type=image.content_type, size=len(image.content))
    photo.file.save(name, ContentFile(image.content, name=name), save=False)
    photo.save()
    audit.record(user, "asset.photo_added", photo,
                 after={"asset": asset.pk, "size": photo.size, "content_type": image.content_type,
                        "sent_as": bounds.label(filename, 80)},
                 jurisdiction=asset.agency.jurisdiction)
    return photo


OFFICE_FIELDS = ("agency_id", "building", "floor", "rooms", "area_m2", "available_from", "available_to", "status")


@transaction.atomic
def register_office_space(user, *, agency, building, floor, rooms, area_m2, available_from, available_to=None,
                          location=None, location_override_reason=""):
    require(user, "asset.register", _agency_scope(agency))
    building = bounds.check(OfficeSpace, "building", require_text(building, "building", _("A building is required.")))
    floor = bounds.check(OfficeSpace, "floor", floor or "")
    rooms = bounds.check(OfficeSpace, "rooms", rooms or "")
    area_m2 = bounds.check(OfficeSpace, "area_m2", area_m2)
    if area_m2 is None or area_m2 <= 0:
        raise ValidationFailed(_("The usable area must be positive."), field="area_m2")
    if available_to is not None and available_to < available_from:
        raise ValidationFailed(_("Available-to must not precede available-from."), field="available_to")
    location, reason = _location(agency, location, location_override_reason)
    space = OfficeSpace.objects.create(
        agency=agency, building=building, floor=floor, rooms=rooms, area_m2=area_m2,
        available_from=available_from, available_to=available_to, location=location)
    audit.record(user, "office_space.registered", space,
                 after={**_snapshot(space, OFFICE_FIELDS), **({"location_override_reason": reason} if reason else {})},
                 jurisdiction=agency.jurisdiction)
    return space


def _search_text(*parts):
    return " ".join(str(p) for p in parts if p).lower()


def _asset_search_text(asset, agency):
    return _search_text(asset.description, asset.asset_class.code, asset.asset_class.name_zh,
                        asset.asset_class.name_en, asset.get_condition_display(), agency.name_zh, agency.name_en,
                        agency.jurisdiction.name_zh, agency.jurisdiction.name_en)


@transaction.atomic
def mark_idle(user, *, asset=None, office_space=None, quantity=None, region_id=None):
    """Mark an asset (or office space) idle and open its listing. Windows come from the standard set in
    force today: own jurisdiction for `own_window_days`, then the region for `region_window_days`,
    then disposal."""
    if (asset is None) == (office_space is None):
        raise ValidationFailed(_("Name exactly one asset or office space."), field=None)
    item = asset or office_space
    model = type(item)
    item = locked(model.objects.select_related("agency__jurisdiction")).get(pk=item.pk)
    require(user, "listing.open", item)
    if item.status not in (model.Status.IN_USE, model.Status.IDLE):
        raise InvalidState(_("Only an item in use or idle can be listed."), field="asset_id" if asset else
                           "office_space_id")
    agency = item.agency
    if asset is not None:
        quantity = item.quantity if quantity is None else quantity
        if not 1 <= quantity <= item.quantity:
            raise ValidationFailed(_("The quantity offered must be between 1 and the asset's quantity."),
                                   field="quantity")
        title = item.description
        text = _asset_search_text(item, agency)
    else:
        quantity = 1
        title = f"{item.building} {item.floor} {item.rooms} ({item.area_m2} m²)"
        text = _search_text(title, "办公用房 office space", agency.name_zh, agency.name_en,
                            agency.jurisdiction.name_zh, agency.jurisdiction.name_en)
    region = region_for(agency.jurisdiction, region_id)

    standards = standard_in_force(Region.objects.get(pk=region), timezone.localdate())
    now = timezone.now()
    own_end, region_end = Listing.window_ends(standards, now)
    before = item.status
    item.status = model.Status.LISTED
    item.save(update_fields=["status"])
    listing = Listing.objects.create(
        region_id=region, agency=agency, jurisdiction=agency.jurisdiction, asset=asset and item,
        office_space=office_space and item, title=title[:300], search_text=text, location=item.location,
        quantity=quantity, quantity_available=quantity, opened_at=now, own_window_ends_at=own_end,
        region_window_ends_at=region_end, created_by=user)
    audit.record(user, "listing.opened", listing, before={"item_status": before},
                 after={"item_status": item.status, "quantity": quantity, "own_window_ends_at": own_end,
                        "region_window_ends_at": listing.region_window_ends_at, "standard_set": standards.pk},
                 region=listing.region, jurisdiction=agency.jurisdiction)
    return listing


@transaction.atomic
def withdraw_listing(user, listing, *, reason):
    """Withdraw an open listing: pending requests are not allocated, the item goes back to idle unless
    part of it is already allocated."""
    listing = locked(Listing.objects.select_related("asset", "office_space", "jurisdiction")).get(pk=listing.pk)
    require(user, "listing.withdraw", listing)
    reason = require_text(reason, "reason", _("A reason is required."))
    if listing.status != Listing.Status.OPEN:
        raise InvalidState(_("Only an open listing can be withdrawn."), field="listing_id")
    listing.status = Listing.Status.WITHDRAWN
    listing.save(update_fields=["status"])
    item = listing.asset or listing.office_space
    if listing.quantity_available == listing.quantity:
        item.status = type(item).Status.IDLE
        item.save(update_fields=["status"])
    pending = TransferRequest.objects.filter(listing=listing, status=TransferRequest.Status.PENDING)
    duties.close_duties(TransferRequest, pending.values_list("pk", flat=True), duties.Stage.ALLOCATION)
    pending.update(status=TransferRequest.Status.NOT_ALLOCATED)
    audit.record(user, "listing.withdrawn", listing, before={"status": "open"},
                 after={"status": listing.status, "reason": reason}, region=listing.region,
                 jurisdiction=listing.jurisdiction)
    return listing


@transaction.atomic
def edit_listing(user, listing, *, description, condition):
    """Correct what an open asset listing says about its asset (description, condition) while nobody has
    requested it: once a request exists, the requester decided on what the listing said, so the giver
    withdraws and lists again instead. The title and search text follow; audited with before and after."""
    listing = locked(Listing.objects.select_related("asset__asset_class", "agency__jurisdiction")).get(pk=listing.pk)
    require(user, "listing.open", listing)
    if listing.status != Listing.Status.OPEN or listing.asset_id is None:
        raise InvalidState(_("Only an open asset listing can be edited."), field="listing_id")
    if TransferRequest.objects.filter(listing=listing).exists():
        raise InvalidState(_("The listing has been requested already: withdraw it and list it again instead."),
                           field="listing_id")
    description = bounds.check(Asset, "description",
                               require_text(description, "description", _("A description is required.")))
    if condition not in Condition.values:
        raise ValidationFailed(_("Unknown condition."), field="condition")
    asset = listing.asset
    before = {"description": asset.description, "condition": asset.condition}
    asset.description, asset.condition = description, condition
    asset.save(update_fields=["description", "condition"])
    listing.title = description[:300]
    listing.search_text = _asset_search_text(asset, listing.agency)
    listing.save(update_fields=["title", "search_text"])
    audit.record(user, "listing.edited", listing, before=before,
                 after={"description": description, "condition": condition}, region=listing.region,
                 jurisdiction=listing.jurisdiction)
    return listing
