"""The authorization matrix: for every GraphQL mutation, one role that may run it and one that may not.

Add a row per mutation: `CASES["mutationName"] = builder`, where `builder(world)` gets the `region_world`
fixture (plus `world["standard_set"]`, a set in force) and returns `(query, variables, allowed_user,
refused_user)`. The refused user must get a `permission_denied`/`not_authenticated` typed error and change
nothing; the allowed user must not be refused. `tests/test_auth_matrix.py` fails, listing the missing
names, when a mutation of `exchange.graphql.schema.schema` has no row.
"""
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tests.conftest import OPERATIONS


def op(name):
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


def create_api_token(world):
    u = world["users"]
    return (op("TokenCreate"), {"input": {"jurisdictionCode": "310000", "name": "erp"}}, u["bureau_a"],
            u["bureau_b"])


def revoke_api_token(world):
    from regions.services import tokens

    u = world["users"]
    with transaction.atomic():
        token, _ = tokens.create_token(u["bureau_a"], world["city_a"], name="erp")
    return op("TokenRevoke"), {"input": {"tokenId": str(token.pk)}}, u["bureau_a"], u["coordinator"]


def create_standard_version(world):
    u = world["users"]
    on = (timezone.localdate() + timedelta(days=10)).isoformat()
    return (op("StandardsCreateVersion"), {"input": {"regionCode": world["region"].code, "effectiveFrom": on}},
            u["coordinator"], u["auditor"])


def edit_future_standard(world):
    from regions.models import StandardSet

    u = world["users"]
    future = StandardSet.objects.create(region=world["region"], title="future",
                                        effective_from=timezone.localdate() + timedelta(days=10))
    return (op("StandardsEditFuture"), {"input": {"standardSetId": str(future.pk),
                                                  "fields": {"handlingFee": "300.00"}}},
            u["coordinator"], u["bureau_a"])


def register_asset(world):
    u = world["users"]
    from tests import factories as f

    f.AssetClassFactory()
    return (op("RegisterAsset"), {"input": {
        "agencyId": str(world["agency_a"].pk), "assetClassCode": "2010104", "description": "台式机",
        "originalValue": str(Decimal("4500.00")), "acquiredOn": "2018-01-01"}}, u["staff_a"], u["staff_b"])


CASES = {
    "createApiToken": create_api_token,
    "revokeApiToken": revoke_api_token,
    "createStandardVersion": create_standard_version,
    "editFutureStandard": edit_future_standard,
    "registerAsset": register_asset,
}


def _listed_asset(world):
    """An asset of agency A listed through the service (needs the world's standard set)."""
    from exchange.services import items
    from tests import factories as f

    asset = f.AssetFactory(agency=world["agency_a"])
    with transaction.atomic():
        return items.mark_idle(world["users"]["staff_a"], asset=asset)


def mark_idle(world):
    from tests import factories as f

    u = world["users"]
    asset = f.AssetFactory(agency=world["agency_a"])
    return op("ListingOpen"), {"input": {"assetId": str(asset.pk)}}, u["staff_a"], u["auditor"]


def register_office_space(world):
    u = world["users"]
    query = """mutation($input: RegisterOfficeSpaceInput!) { registerOfficeSpace(input: $input) {
      errors { field code message } officeSpace { id } } }"""
    return (query, {"input": {"agencyId": str(world["agency_a"].pk), "building": "1号楼", "floor": "3",
                              "rooms": "301", "areaM2": "40.00", "availableFrom": "2026-01-01"}},
            u["bureau_a"], u["staff_b"])


def add_asset_photo(world):
    import base64

    from tests import factories as f

    u = world["users"]
    asset = f.AssetFactory(agency=world["agency_a"])
    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005"
        "0001ffa9e2c2a30000000049454e44ae426082")).decode()
    query = """mutation($input: AddAssetPhotoInput!) {
      addAssetPhoto(input: $input) { errors { field code message } } }"""
    return (query, {"input": {"assetId": str(asset.pk), "filename": "a.png", "contentBase64": png}},
            u["staff_a"], u["auditor"])


def withdraw_listing(world):
    u = world["users"]
    listing = _listed_asset(world)
    query = """mutation($input: WithdrawListingInput!) { withdrawListing(input: $input) {
      errors { field code message } listing { id status } } }"""
    return query, {"input": {"listingId": str(listing.pk), "reason": "自用"}}, u["staff_a"], u["auditor"]


CASES.update({
    "markIdle": mark_idle,
    "registerOfficeSpace": register_office_space,
    "addAssetPhoto": add_asset_photo,
    "withdrawListing": withdraw_listing,
})
