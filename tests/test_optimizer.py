"""Allocation optimizer: optimal km (checked against brute force), quantities, tiers, `allowed`,
determinism, explanations, and the model adapter."""
import itertools
import random
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from exchange.models import Listing, TransferRequest
from exchange.services.optimizer import (
    SPHERE_ERROR,
    Demand,
    Substitution,
    Supply,
    _Points,
    _polish,
    allocate_window_optimized,
    first_come,
    geodesic_km,
    nearest_first_come,
    optimize,
    plan,
    total_km,
)
from tests import factories as f


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


CITIES = [(121.47, 31.23), (120.16, 30.27), (118.80, 32.06), (120.59, 31.30), (117.23, 31.82)]


def world(seed, n_supply, n_demand, max_supply_qty=3, max_demand_qty=2, tiers=(1, 2)):
    rng = random.Random(seed)

    def point():
        lon, lat = rng.choice(CITIES)
        return lon + rng.uniform(-0.3, 0.3), lat + rng.uniform(-0.3, 0.3)

    supplies = [Supply(i, rng.randint(1, max_supply_qty), *point()) for i in range(1, n_supply + 1)]
    demands = [Demand(100 + j, rng.randint(1, max_demand_qty), rng.choice(tiers), *point(), j,
                      rng.randint(1, n_supply)) for j in range(n_demand)]
    return supplies, demands


def check_feasible(supplies, demands, assignments, allowed=lambda s, d: True):
    qty = {s.listing_id: s.quantity for s in supplies}
    by_id_s = {s.listing_id: s for s in supplies}
    by_id_d = {d.request_id: d for d in demands}
    assert len({a.request_id for a in assignments}) == len(assignments), "a request served twice"
    for a in assignments:
        assert a.quantity == by_id_d[a.request_id].quantity
        assert allowed(by_id_s[a.listing_id], by_id_d[a.request_id])
        qty[a.listing_id] -= a.quantity
    assert min(qty.values()) >= 0, "listing over-allocated"


def brute_force(supplies, demands, allowed=lambda s, d: True):
    """Tier-by-tier optimum by enumeration: for tier 1, then 2, …: most units, then least km."""
    options = [[None] + [s for s in supplies if allowed(s, d)] for d in demands]
    tiers = sorted({d.tier for d in demands})
    best = None
    for choice in itertools.product(*options):
        used = {}
        for d, s in zip(demands, choice, strict=True):
            if s is not None:
                used[s.listing_id] = used.get(s.listing_id, 0) + d.quantity
        if any(used[s.listing_id] > s.quantity for s in supplies if s.listing_id in used):
            continue
        key = tuple(x for t in tiers for x in _tier_key(
            [(d, s) for d, s in zip(demands, choice, strict=True) if s and d.tier == t]))
        best = key if best is None or key < best else best
    return best


def _tier_key(pairs):
    km = sum(round(float(geodesic_km(s.lon, s.lat, d.lon, d.lat)), 2) for d, s in pairs)
    return -sum(d.quantity for d, _ in pairs), round(km, 1)


@pytest.mark.parametrize("seed", range(6))
def test_optimizer_matches_brute_force_on_small_worlds(seed):
    supplies, demands = world(seed, 3, 5)
    allowed = (lambda s, d: (s.listing_id + d.request_id) % 4 != 0) if seed % 2 else (lambda s, d: True)
    result = optimize(supplies, demands, allowed)
    check_feasible(supplies, demands, result, allowed)
    tiers = sorted({d.tier for d in demands})
    by_id_s, by_id_d = {s.listing_id: s for s in supplies}, {d.request_id: d for d in demands}
    pairs = [(by_id_d[a.request_id], by_id_s[a.listing_id]) for a in result]
    key = tuple(x for t in tiers for x in _tier_key([(d, s) for d, s in pairs if d.tier == t]))
    assert key == brute_force(supplies, demands, allowed)


@pytest.mark.parametrize("seed", range(5))
def test_optimizer_beats_or_equals_first_come_when_both_serve_everyone(seed):
    supplies, demands = world(seed, 60, 80, max_supply_qty=4, max_demand_qty=1, tiers=(1,))
    opt, fcfs = optimize(supplies, demands), first_come(supplies, demands)
    assert len(opt) == len(fcfs) == len(demands)
    check_feasible(supplies, demands, opt)
    check_feasible(supplies, demands, fcfs)
    assert total_km(opt) <= total_km(fcfs) + 0.01


def test_higher_tier_is_served_first_even_when_far():
    listing = Supply(1, 1, 121.47, 31.23)
    near_tier2 = Demand(10, 1, 2, 121.48, 31.24, 0)
    far_tier1 = Demand(11, 1, 1, 117.23, 31.82, 1)
    [assignment] = optimize([listing], [near_tier2, far_tier1])
    assert assignment.request_id == 11
    assert assignment.km > 300
    # first come ignores tiers
    assert [a.request_id for a in first_come([listing], [near_tier2, far_tier1])] == [10]


def test_tier_two_gets_only_what_tier_one_leaves():
    supplies = [Supply(1, 3, 121.47, 31.23)]
    demands = [Demand(10, 2, 1, 120.16, 30.27, 0), Demand(11, 2, 2, 121.47, 31.23, 1),
               Demand(12, 1, 2, 118.80, 32.06, 2)]
    result = optimize(supplies, demands)
    assert {a.request_id for a in result} == {10, 12}


def test_quantities_are_never_split_or_exceeded():
    supplies, demands = world(42, 40, 120, max_supply_qty=3, max_demand_qty=3)
    result = optimize(supplies, demands)
    check_feasible(supplies, demands, result)
    assert sum(a.quantity for a in result) <= sum(s.quantity for s in supplies)


def test_allowed_excludes_pairs():
    supplies = [Supply(1, 5, 121.47, 31.23), Supply(2, 5, 117.23, 31.82)]
    demands = [Demand(10, 1, 1, 121.47, 31.23, 0), Demand(11, 1, 1, 121.40, 31.20, 1)]
    result = optimize(supplies, demands, allowed=lambda s, d: s.listing_id == 2)
    assert {a.listing_id for a in result} == {2}
    assert optimize(supplies, demands, allowed=lambda s, d: False) == []


def test_deterministic_and_order_independent():
    supplies, demands = world(3, 50, 90)
    first = optimize(supplies, demands)
    shuffled_s, shuffled_d = supplies[:], demands[:]
    random.Random(1).shuffle(shuffled_s)
    random.Random(2).shuffle(shuffled_d)
    assert optimize(shuffled_s, shuffled_d) == first == optimize(supplies, demands)


def test_reason_explains_distance_and_tier_in_both_languages():
    [a] = optimize([Supply(1, 1, 121.47, 31.23)], [Demand(10, 1, 1, 120.16, 30.27, 0)])
    assert 150 < a.km < 180  # Shanghai → Hangzhou great circle ≈ 165 km
    assert "优先级第1档" in a.reason and "Priority tier 1" in a.reason and f"{a.km:.1f} km" in a.reason


def test_empty_inputs():
    assert optimize([], [Demand(1, 1, 1, 0, 0, 0)]) == [] == first_come([Supply(1, 1, 0, 0)], [])


# --- adapter --------------------------------------------------------------------------------------
def _listing(agency, asset_class, qty, closed=True):
    asset = f.AssetFactory(agency=agency, asset_class=asset_class, quantity=qty)
    now = timezone.now()
    ends = now - timedelta(days=1) if closed else now + timedelta(days=3)
    return Listing.objects.create(region_id=agency._region_id, agency=agency, jurisdiction=agency.jurisdiction,
                                  asset=asset, title=asset.description, location=asset.location, quantity=qty,
                                  quantity_available=qty, own_window_ends_at=ends, region_window_ends_at=ends)


def _request(listing, agency, qty=1, tier=2, **extra):
    return TransferRequest.objects.create(listing=listing, agency=agency, quantity=qty, justification="需要",
                                          priority_tier=tier, **extra)


def test_adapter_swaps_same_class_listings_to_cut_distance(region_world):
    w = region_world
    a, b = w["agency_a"], w["agency_b"]
    a._region_id = b._region_id = w["region"].pk
    a2 = f.AgencyFactory(jurisdiction=w["city_a"])
    b2 = f.AgencyFactory(jurisdiction=w["city_b"])
    desktop = f.AssetClassFactory()
    chair = f.AssetClassFactory(code="6010301", name_zh="椅子", name_en="Chair", kind="furniture")
    in_shanghai = _listing(a, desktop, 1)
    in_hangzhou = _listing(b, desktop, 1)
    chair_in_hz = _listing(b, chair, 1)
    open_listing = _listing(b, desktop, 1, closed=False)
    # each asks for the far listing of its class; the optimizer swaps them
    r_hz = _request(in_shanghai, b2)
    r_sh = _request(in_hangzhou, a2)
    _request(open_listing, a2)  # window still open: not part of this allocation
    _request(in_hangzhou, a2, breaches=[{"rule": "price_cap"}])  # unexcepted breach: excluded
    r_chair = _request(chair_in_hz, a2, tier=1)

    result = {x.request_id: x for x in allocate_window_optimized(w["region"])}
    assert set(result) == {r_hz.pk, r_sh.pk, r_chair.pk}
    assert result[r_hz.pk].listing_id == in_hangzhou.pk and result[r_hz.pk].km < 1
    assert result[r_sh.pk].listing_id == in_shanghai.pk
    assert result[r_chair.pk].listing_id == chair_in_hz.pk  # other class never substitutes


def test_adapter_never_gives_an_agency_its_own_listing(region_world):
    w = region_world
    a, b = w["agency_a"], w["agency_b"]
    a._region_id = b._region_id = w["region"].pk
    desktop = f.AssetClassFactory()
    own = _listing(a, desktop, 1)
    other = _listing(b, desktop, 1)
    r = _request(other, a)
    [assignment] = allocate_window_optimized(w["region"])
    assert (assignment.request_id, assignment.listing_id) == (r.pk, other.pk)
    assert own.pk != assignment.listing_id


def test_plan_for_the_core_allocation_service_prefers_tier_then_nearest(region_world):
    w = region_world
    a, b = w["agency_a"], w["agency_b"]
    a._region_id = w["region"].pk
    desktop = f.AssetClassFactory()
    listing = _listing(a, desktop, 2)
    near = f.AgencyFactory(jurisdiction=w["city_a"])
    far_tier1 = _request(listing, b, tier=1)
    _request(listing, f.AgencyFactory(jurisdiction=w["city_b"]))  # far, tier 2: loses
    near_tier2 = _request(listing, near)
    requests = list(TransferRequest.objects.select_related("agency", "listing__asset"))
    result = plan([listing], requests)
    assert [(r.pk, q) for r, q, _ in result] == sorted([(far_tier1.pk, 1), (near_tier2.pk, 1)])
    assert all("km" in reason for _, _, reason in result)


def test_core_window_close_in_optimized_mode_stores_the_explanation(region_world):
    from exchange.services.allocation import allocate_at_window_close

    w = region_world
    a, b = w["agency_a"], w["agency_b"]
    a._region_id = w["region"].pk
    f.StandardSetFactory(region=w["region"], allocation_mode="optimized")
    listing = _listing(a, f.AssetClassFactory(), 1)
    near = f.AgencyFactory(jurisdiction=w["city_a"])
    _request(listing, b)  # first, but far
    winner = _request(listing, near)
    [transfer] = allocate_at_window_close(listing, w["users"]["coordinator"])
    assert transfer.request_id == winner.pk
    assert "Priority tier 2" in transfer.allocation_reason and "km" in transfer.allocation_reason
    assert TransferRequest.objects.filter(status="not_allocated").count() == 1


@pytest.mark.parametrize("seed", [3, 11])
def test_nearest_first_come_takes_each_requests_nearest_listing_left_and_the_optimizer_does_no_worse(seed):
    supplies, demands = world(seed, 40, 60, max_supply_qty=4, max_demand_qty=1, tiers=(1,))
    stats = {}
    opt, nearest = optimize(supplies, demands, stats=stats), nearest_first_come(supplies, demands)
    check_feasible(supplies, demands, nearest)
    assert len(opt) == len(nearest) == len(demands)
    assert total_km(opt) <= total_km(nearest) + 0.01
    assert 0 <= stats["gap_max"] <= 1e-3 and stats["km"] >= stats["lp_km"] - 0.01
    first = min(demands, key=lambda d: (d.created_order, d.request_id))  # the first arrival gets its nearest
    taken = next(a for a in nearest if a.request_id == first.request_id)
    assert taken.km == round(min(float(geodesic_km(s.lon, s.lat, first.lon, first.lat)) for s in supplies), 2)


# --- scale: candidates, the substitution rule as a matrix, the LP neighbourhood -----------------------
@pytest.mark.parametrize("seed", range(6, 14))
def test_optimizer_matches_brute_force_where_requests_of_two_units_contend(seed):
    supplies, demands = world(seed, 3, 6, max_supply_qty=3, max_demand_qty=2, tiers=(1,))
    result = optimize(supplies, demands)
    check_feasible(supplies, demands, result)
    by_id_s, by_id_d = {s.listing_id: s for s in supplies}, {d.request_id: d for d in demands}
    key = _tier_key([(by_id_d[a.request_id], by_id_s[a.listing_id]) for a in result])
    assert key == brute_force(supplies, demands)


def test_candidates_are_each_requests_nearest_feasible_listings_by_the_geodesic():
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(-180, 180, 60), 121.47 + rng.normal(0, 1e-4, 40)])  # world-wide and 10 m apart
    lat = np.concatenate([rng.uniform(-85, 85, 60), 31.23 + rng.normal(0, 1e-4, 40)])
    supplies = [Supply(i, 1, float(lon[i]), float(lat[i])) for i in range(100)]
    demands = [Demand(1000 + j, 1, 1, float(lon[j]) + 0.001, float(lat[j]), j) for j in range(0, 100, 3)]
    points = _Points(supplies, demands)
    feasible = rng.random((len(supplies), len(demands))) < 0.7
    exact = geodesic_km(points.s_lon[:, None], points.s_lat[:, None], points.d_lon[None, :], points.d_lat[None, :])
    for k in (1, 5, 12):
        rows, cols, km = points.nearest(feasible, k)
        for d in range(len(demands)):
            cost = np.where(feasible[:, d], exact[:, d], np.inf)
            expected = [s for s in np.argsort(cost, kind="stable")[:k] if np.isfinite(cost[s])]
            assert rows[cols == d].tolist() == expected
            assert np.allclose(km[cols == d], exact[expected, d], rtol=0, atol=1e-6)  # 1 mm


def test_the_sphere_that_preselects_stays_within_its_stated_error_of_the_geodesic():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-180, 180, 400), rng.uniform(-89, 89, 400)
    d_lon, d_lat = lon + rng.choice([1e-3, 0.1, 5, 60], 400) * rng.normal(size=400), lat + rng.normal(0, 2, 400)
    d_lat = np.clip(d_lat, -89.9, 89.9)
    supplies = [Supply(i, 1, float(x), float(y)) for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    demands = [Demand(i, 1, 1, float(x), float(y), i) for i, (x, y) in enumerate(zip(d_lon, d_lat, strict=True))]
    points = _Points(supplies, demands)
    sphere = np.diag(points.sphere)
    exact = geodesic_km(lon, lat, d_lon, d_lat)
    ratio = sphere[exact > 0] / exact[exact > 0]
    assert np.all(np.abs(ratio - 1) <= 0.006) and 0.006 < SPHERE_ERROR


def _classes(seed, supplies, demands):
    rng = random.Random(seed)
    listing_class = {s.listing_id: rng.choice([1, 2, 3, None]) for s in supplies}
    request_class = {d.request_id: rng.choice([1, 2, 3, None]) for d in demands}
    listing_agency = {s.listing_id: rng.randrange(6) for s in supplies}
    request_agency = {d.request_id: rng.randrange(6) for d in demands}
    return Substitution(listing_class, request_class, listing_agency, request_agency)


@pytest.mark.parametrize("seed", range(3))
def test_substitution_matrix_is_the_pair_rule(seed):
    supplies, demands = world(seed, 30, 50)
    rule = _classes(seed, supplies, demands)
    expected = [[rule(s, d) for d in demands] for s in supplies]
    assert rule.matrix(supplies, demands).tolist() == expected
    assert any(map(any, expected)) and not all(map(all, expected))
    # the request's own listing serves it whatever the classes; its own agency's never
    s, d = supplies[0], Demand(1, 1, 1, 121.0, 31.0, 0, supplies[0].listing_id)
    assert Substitution({}, {}).matrix([s], [d]).tolist() == [[True]] and Substitution({}, {})(s, d)
    own = Substitution({}, {}, {s.listing_id: 9}, {d.request_id: 9})
    assert own.matrix([s], [d]).tolist() == [[False]] and not own(s, d)


def test_substitution_matrix_and_pair_rule_give_the_same_plan():
    supplies, demands = world(5, 80, 160, max_demand_qty=2, tiers=(1, 2))
    rule = _classes(5, supplies, demands)
    plan_by_matrix = optimize(supplies, demands, rule)
    assert plan_by_matrix == optimize(supplies, demands, lambda s, d: rule(s, d))
    check_feasible(supplies, demands, plan_by_matrix, rule)


@pytest.mark.parametrize("classes", [1, 4])
def test_a_scarce_tier_of_two_unit_requests_is_solved_close_to_its_lp_bound(classes):
    """Supply is short and a quarter of the requests want 2 units: the LP relaxation is fractional; the
    plan must stay within 0.5% of its bound (rounding the LP down and filling greedily is 7% off: 38 units
    short). With several asset classes the MILP falls apart into pieces solved one by one."""
    rng = random.Random(11)

    def point():
        lon, lat = rng.choice(CITIES)
        return lon + rng.gauss(0, 0.15), lat + rng.gauss(0, 0.15)

    supplies = [Supply(i, rng.randint(1, 3), *point()) for i in range(1, 301)]
    demands = [Demand(1000 + j, rng.choice((1, 1, 1, 2)), 1, *point(), j) for j in range(500)]
    rule = Substitution({s.listing_id: s.listing_id % classes for s in supplies},
                        {d.request_id: d.request_id % classes for d in demands})
    stats = {}
    result = optimize(supplies, demands, rule, stats=stats)
    check_feasible(supplies, demands, result, rule)
    assert stats["units"] == sum(a.quantity for a in result) <= stats["lp_units"]
    assert abs(stats["km"] - sum(a.km for a in result)) < 0.01 * len(result)
    assert 0 <= stats["gap_max"] <= 5e-3
    assert sum(a.quantity for a in result) >= stats["lp_units"] - 2


def test_polish_moves_requests_of_one_size_to_fewer_km_serving_the_same_ones():
    # listings 0 (2 units) and 1 (2 units); requests 0 and 1 of 1 unit, request 2 of 2 units at listing 0
    rows = np.array([0, 1, 0, 1, 0, 1])
    cols = np.array([0, 0, 1, 1, 2, 2])
    units = np.array([1.0, 1, 1, 1, 2, 2])
    km = np.array([10.0, 1, 1, 10, 5, 50])
    crossed = np.array([False, False, False, True, True, False])  # request 1 far away, request 0 unserved
    polished = _polish(crossed, rows, cols, units, km, np.array([3.0, 2.0]), 3, 1.0)
    assert polished.tolist() == [False, False, True, False, True, False]  # request 1 to listing 0, which has room
    assert units[polished].sum() == units[crossed].sum() and km[polished].sum() < km[crossed].sum()
    full = np.array([False, True, True, False, True, False])
    assert _polish(full, rows, cols, units, km, np.array([3.0, 2.0]), 3, 1.0).tolist() == full.tolist()
