"""Reference rows (regions, jurisdictions, asset classes) come from per-process caches on listing pages:
one SQL query for the page once they are cached, and a rename is seen on the next page."""
from exchange import selectors
from tests import factories_exchange as fx


def test_a_listing_page_is_one_query_once_reference_rows_are_cached(region_world, django_assert_num_queries):
    fx.standard_set(region_world["region"], own_window_days=0)
    for i in range(5):
        fx.open_listing(region_world, description=f"台式机 {i}")
    coordinator = region_world["users"]["coordinator"]
    list(selectors.listings_for(coordinator))  # principal and caches filled
    with django_assert_num_queries(1):
        page = list(selectors.listings_for(coordinator))
        shown = {(x.jurisdiction.name_zh, x.agency.jurisdiction.code, x.region.code, x.asset.asset_class.code)
                 for x in page}
    assert len(page) == 5 and ("上海市", "310000", "yrd-test") in {s[:3] for s in shown}


def test_a_renamed_jurisdiction_is_seen_on_the_next_page(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    fx.open_listing(region_world, description="台式机")
    coordinator = region_world["users"]["coordinator"]
    assert {x.jurisdiction.name_zh for x in selectors.listings_for(coordinator)} == {"上海市"}
    city = region_world["city_a"]
    city.name_zh = "上海"
    city.save()
    assert {x.jurisdiction.name_zh for x in selectors.listings_for(coordinator)} == {"上海"}
