"""Allocation optimizer: at the close of a screening window, give the window's listings to its requests
so that total transport distance (WGS84 geodesic km, giver → receiver) is minimal, tier by tier.

The core is a pure function (`optimize`) over plain dataclasses; `allocate_window_optimized` is the thin
adapter that builds them from the models. A request is served from ONE listing and in full (a Transfer
is one-to-one with its request), so each tier is solved as a small 0/1 programme with SciPy's HiGHS MILP
(`scipy.optimize.milp`):

    minimise   Σ (km_sd − B·q_d)·x_sd    B = UNIT_BONUS_FACTOR × the largest candidate km + 1, so that serving
                                         one more unit of this tier is worth more than any one shipment's km
    s.t.     Σ_s x_sd ≤ 1 for each request, Σ_d q_d·x_sd ≤ remaining_s for each listing, x binary.

Tiers are solved in order (1 = highest) on the supply the previous tiers left. To keep the programme
small each request only considers its `CANDIDATES` nearest allowed listings (exact whenever a request
has no more allowed listings than that; more candidates let a scarce tier serve a few more units at the
cost of solve time). With unit requests the constraint matrix is a transportation problem, so HiGHS solves
it at the LP root; requests of several units make it a small knapsack-like MILP. 1,000 × 2,000 takes about
5 s on 2 cores; TIME_BUDGET_S bounds the whole solve.

Distance counts once per transfer (one shipment, as the compensation rule charges km × rate per transfer).
"""
import time
from dataclasses import dataclass

import numpy as np
from django.utils import timezone
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from exchange.models import Listing, TransferRequest
from kernel.geo import geodesic_m_array

CANDIDATES = 12
TIME_BUDGET_S = 8.0  # solving, after the distances: shared out between the tiers (LP, then MILP, then the better plan)
MIP_GAP = 1e-4
MIP_TIME_S = 1.0  # per tier; the LP relaxation's rounded plan stands in when the MILP needs longer
UNIT_BONUS_FACTOR = 2.0


@dataclass(frozen=True)
class Supply:
    listing_id: int
    quantity: int
    lon: float
    lat: float


@dataclass(frozen=True)
class Demand:
    request_id: int
    quantity: int
    tier: int
    lon: float
    lat: float
    created_order: int
    listing_id: int | None = None  # the listing the request named (first-come serves it first)


@dataclass(frozen=True)
class Assignment:
    listing_id: int
    request_id: int
    quantity: int
    km: float
    reason: str


def _always(supply, demand):
    return True


def geodesic_km(lon1, lat1, lon2, lat2):
    """The product's one WGS84 geodesic (kernel.geo.geodesic_m_array), in km; numpy-broadcasting."""
    return geodesic_m_array(lon1, lat1, lon2, lat2) / 1000


def _distances(supplies, demands):
    s_lon = np.array([s.lon for s in supplies])[:, None]
    s_lat = np.array([s.lat for s in supplies])[:, None]
    d_lon = np.array([d.lon for d in demands])[None, :]
    d_lat = np.array([d.lat for d in demands])[None, :]
    return geodesic_km(s_lon, s_lat, d_lon, d_lat)


def _allowed_mask(supplies, demands, allowed):
    if allowed is _always:
        return np.ones((len(supplies), len(demands)), dtype=bool)
    return np.array([[bool(allowed(s, d)) for d in demands] for s in supplies], dtype=bool).reshape(
        len(supplies), len(demands))


def _reason(km, tier, nearest_km, mode):
    how_zh = "总运输距离最小化" if mode == "optimized" else "先到先得"
    how_en = "minimising total transport distance" if mode == "optimized" else "first come, first served"
    text = (f"优先级第{tier}档；距离 {km:.1f} km（最近可选挂牌 {nearest_km:.1f} km）；{how_zh}。 / "
            f"Priority tier {tier}; {km:.1f} km (nearest allowed listing {nearest_km:.1f} km); {how_en}.")
    return text


def _solve_tier(rows, cols, q, km, remaining, n_demands, time_limit):
    """One tier's programme over candidate edges (rows = supply index, cols = local demand index): the LP
    relaxation (fast; its optimum bounds any plan from below), then the MILP within MIP_TIME_S; the better of
    the MILP's plan and the LP's plan rounded down and completed greedily (nearest edge first) is kept.
    Returns (chosen edges, stats of the tier)."""
    n = len(rows)
    units = q[cols].astype(float)
    edge = np.arange(n)
    per_demand = csr_array((np.ones(n), (cols, edge)), shape=(n_demands, n))
    per_supply = csr_array((units, (rows, edge)), shape=(len(remaining), n))
    constraints = [LinearConstraint(per_demand, 0, 1), LinearConstraint(per_supply, 0, remaining)]
    bonus = UNIT_BONUS_FACTOR * (float(km.max()) + 1.0)  # a served unit outweighs any one shipment's km
    cost = km - bonus * units
    lp = milp(cost, constraints=constraints, integrality=np.zeros(n), bounds=Bounds(0, 1),
              options={"time_limit": max(time_limit, 0.5), "disp": False})
    # Without an LP solution in time, the greedy completion from nothing (nearest edges first) still plans.
    plans = [_round_and_complete(lp.x if lp.x is not None else np.zeros(n), rows, cols, units, km, remaining,
                                 n_demands)]
    mip = milp(cost, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, 1),
               options={"time_limit": max(min(MIP_TIME_S, time_limit), 0.2), "disp": False, "mip_rel_gap": MIP_GAP})
    if mip.x is not None:
        plans.append(np.round(mip.x) > 0.5)
    chosen = min(plans, key=lambda plan: float(cost[plan].sum()))
    stats = {}
    if lp.x is not None:
        stats = {"lp_km": float(km @ lp.x), "lp_units": float(units @ lp.x), "km": float(km[chosen].sum()),
                 "units": float(units[chosen].sum()),
                 "gap": (float(cost[chosen].sum()) - lp.fun) / max(abs(lp.fun), 1e-9)}
    return chosen, stats


def _round_and_complete(x, rows, cols, units, km, remaining, n_demands):
    """An integral plan from an LP solution: its whole edges, then the remaining demands greedily over their
    nearest edges that still fit."""
    chosen = x > 1 - 1e-6
    left = remaining - np.bincount(rows[chosen], weights=units[chosen], minlength=len(remaining))
    served = np.zeros(n_demands, dtype=bool)
    served[cols[chosen]] = True
    for e in np.argsort(km, kind="stable"):
        d, s = cols[e], rows[e]
        if not served[d] and left[s] >= units[e]:
            chosen[e], served[d] = True, True
            left[s] -= units[e]
    return chosen


def optimize(supplies, demands, allowed=_always, candidates=CANDIDATES, stats=None) -> list[Assignment]:
    """Minimum total km, higher tiers (smaller number) served as fully as possible first. Deterministic:
    inputs are sorted by id and HiGHS is deterministic for a given model (a MILP stopped by its time limit
    is not: then the rounded LP plan usually wins). `stats` (a dict), when given, receives the plan's km and
    units and the LP relaxation's (`lp_km`, `lp_units`: a bound no plan can beat), and `gap_max`, the
    worst tier's relative gap of the objective to that bound."""
    supplies = sorted(supplies, key=lambda s: s.listing_id)
    demands = sorted(demands, key=lambda d: (d.tier, d.created_order, d.request_id))
    if not supplies or not demands:
        return []
    dist = _distances(supplies, demands)
    mask = _allowed_mask(supplies, demands, allowed)
    deadline = time.monotonic() + TIME_BUDGET_S  # the solving budget, shared out between the tiers
    remaining = np.array([s.quantity for s in supplies], dtype=float)
    qty = np.array([d.quantity for d in demands], dtype=int)
    tiers = np.array([d.tier for d in demands])
    result = []
    tier_list = sorted(set(tiers.tolist()))
    for done, tier in enumerate(tier_list):
        members = np.flatnonzero(tiers == tier)
        feasible = mask[:, members] & (remaining[:, None] >= qty[members][None, :])
        cost = np.where(feasible, dist[:, members], np.inf)
        k = min(candidates, len(supplies))
        order = np.argsort(cost, axis=0, kind="stable")[:k]  # k nearest supplies per demand
        rows = order.ravel(order="F")
        cols = np.repeat(np.arange(len(members)), k)
        keep = np.isfinite(cost[rows, cols])
        rows, cols = rows[keep], cols[keep]
        if not len(rows):
            continue
        chosen, tier_stats = _solve_tier(rows, cols, qty[members], dist[rows, members[cols]], remaining.copy(),
                                         len(members), (deadline - time.monotonic()) / (len(tier_list) - done))
        if stats is not None and tier_stats:
            for key in ("lp_km", "lp_units", "km", "units"):
                stats[key] = stats.get(key, 0.0) + tier_stats[key]
            stats["gap_max"] = max(stats.get("gap_max", 0.0), tier_stats["gap"])
        for s_idx, local in zip(rows[chosen], cols[chosen], strict=True):
            d_idx = members[local]
            demand, supply = demands[d_idx], supplies[s_idx]
            remaining[s_idx] -= demand.quantity
            km = float(dist[s_idx, d_idx])
            nearest = float(np.min(np.where(mask[:, d_idx], dist[:, d_idx], np.inf)))
            result.append(Assignment(supply.listing_id, demand.request_id, demand.quantity, round(km, 2),
                                     _reason(km, demand.tier, nearest, "optimized")))
    assert (remaining >= 0).all(), "optimizer over-allocated a listing"
    return sorted(result, key=lambda a: (a.listing_id, a.request_id))


def first_come(supplies, demands, allowed=_always) -> list[Assignment]:
    """Baseline: requests in arrival order, tiers ignored; each takes the listing it named if allowed and
    still large enough, else the oldest allowed listing that still has enough."""
    supplies = sorted(supplies, key=lambda s: s.listing_id)
    demands = sorted(demands, key=lambda d: (d.created_order, d.request_id))
    if not supplies or not demands:
        return []
    dist = _distances(supplies, demands)
    mask = _allowed_mask(supplies, demands, allowed)
    index = {s.listing_id: i for i, s in enumerate(supplies)}
    remaining = np.array([s.quantity for s in supplies])
    result = []
    for d_idx, demand in enumerate(demands):
        options = np.flatnonzero(mask[:, d_idx] & (remaining >= demand.quantity))
        if not len(options):
            continue
        named = index.get(demand.listing_id)
        s_idx = named if named is not None and named in options else int(options[0])
        remaining[s_idx] -= demand.quantity
        km = float(dist[s_idx, d_idx])
        nearest = float(np.min(np.where(mask[:, d_idx], dist[:, d_idx], np.inf)))
        result.append(Assignment(supplies[s_idx].listing_id, demand.request_id, demand.quantity, round(km, 2),
                                 _reason(km, demand.tier, nearest, "first_come")))
    return sorted(result, key=lambda a: (a.listing_id, a.request_id))


def nearest_first_come(supplies, demands, allowed=_always) -> list[Assignment]:
    """Baseline for the optimizer: requests in arrival order, tiers ignored; each takes its nearest allowed
    listing that still has enough."""
    supplies = sorted(supplies, key=lambda s: s.listing_id)
    demands = sorted(demands, key=lambda d: (d.created_order, d.request_id))
    if not supplies or not demands:
        return []
    dist = _distances(supplies, demands)
    mask = _allowed_mask(supplies, demands, allowed)
    remaining = np.array([s.quantity for s in supplies])
    result = []
    for d_idx, demand in enumerate(demands):
        cost = np.where(mask[:, d_idx] & (remaining >= demand.quantity), dist[:, d_idx], np.inf)
        s_idx = int(np.argmin(cost))
        if not np.isfinite(cost[s_idx]):
            continue
        remaining[s_idx] -= demand.quantity
        km = float(dist[s_idx, d_idx])
        result.append(Assignment(supplies[s_idx].listing_id, demand.request_id, demand.quantity, round(km, 2),
                                 _reason(km, demand.tier, km, "first_come")))
    return sorted(result, key=lambda a: (a.listing_id, a.request_id))


def total_km(assignments):
    """Total transport distance: one shipment per transfer."""
    return round(sum(a.km for a in assignments), 2)


# --- adapter: models → dataclasses ------------------------------------------------------------------
def _substitutable(listing_class, request_class):
    """Pairs the optimizer may use: a request may be served by its own listing or by another listing of
    the same asset class (office space only by the listing it named), never by its own agency."""

    def allowed(supply, demand):
        if supply.listing_id == demand.listing_id:
            return True
        wanted = request_class.get(demand.request_id)
        return wanted is not None and listing_class.get(supply.listing_id) == wanted

    return allowed


def _model_inputs(listings, requests):
    """Supplies, demands and the `allowed` test from Listing and TransferRequest rows (listings with their
    asset, requests with their agency and listing.asset loaded)."""
    supplies = [Supply(x.pk, x.quantity_available, x.location.x, x.location.y) for x in listings
                if x.quantity_available > 0]
    giver_of = {x.pk: x.agency_id for x in listings}
    demands, requester = [], {}
    for order, r in enumerate(sorted(requests, key=lambda r: (r.created_at, r.pk))):
        if r.breaches and not r.exception_requested:
            continue
        demands.append(Demand(r.pk, r.quantity, r.priority_tier, r.agency.location.x, r.agency.location.y, order,
                              r.listing_id))
        requester[r.pk] = r.agency_id
    listing_class = {x.pk: x.asset.asset_class_id for x in listings if x.asset_id}
    request_class = {r.pk: listing_class.get(r.listing_id) if r.listing_id in giver_of else
                     (r.listing.asset.asset_class_id if r.listing.asset_id else None) for r in requests}
    same_class = _substitutable(listing_class, request_class)

    def allowed(supply, demand):
        return giver_of[supply.listing_id] != requester[demand.request_id] and same_class(supply, demand)

    return supplies, demands, allowed


def plan(listings, requests):
    """Planner for `exchange.services.allocation` (allocation_mode == optimized): [(request, quantity,
    reason)] for the given listings and their pending requests, same contract as `first_come_plan`."""
    listings = list(listings)
    by_pk = {r.pk: r for r in requests}
    supplies, demands, allowed = _model_inputs(listings, list(requests))
    return [(by_pk[a.request_id], a.quantity, a.reason) for a in optimize(supplies, demands, allowed)]


def allocate_window_optimized(region, listings=None, now=None, candidates=CANDIDATES):
    """Optimized assignments for the listings of `region` whose regional window has closed (or the given
    `listings` queryset) and their pending requests. Reads only: the caller (the core allocation service)
    checks permission, writes the Transfers with `distance_km`/`allocation_reason` and audits.

    Requests whose recorded standards breaches are not covered by an exception are excluded, as are pairs
    where giver and receiver are the same agency. Returns a list of `Assignment`."""
    now = now or timezone.now()
    if listings is None:
        listings = Listing.objects.filter(Listing.in_window(Listing.Window.DISPOSAL, now), region=region,
                                          status=Listing.Status.OPEN)
    listings = list(listings.filter(quantity_available__gt=0).select_related("asset"))
    requests = list(TransferRequest.objects.filter(listing__in=listings, status=TransferRequest.Status.PENDING)
                    .select_related("agency", "listing__asset"))
    supplies, demands, allowed = _model_inputs(listings, requests)
    return optimize(supplies, demands, allowed, candidates=candidates)
