"""Allocation optimizer: at the close of a screening window, give the window's listings to its requests
so that total transport distance (WGS84 geodesic km, giver → receiver) is minimal, tier by tier.

The core is a pure function (`optimize`) over plain dataclasses; `allocate_window_optimized` is the thin
adapter that builds them from the models. A request is served from ONE listing and in full (a Transfer
is one-to-one with its request), so each tier is solved as a small 0/1 programme with SciPy's HiGHS MILP
(`scipy.optimize.milp`):

    minimise   Σ (km_sd − B·q_d)·x_sd    B = UNIT_BONUS_FACTOR × the largest candidate km + 1, so that serving
                                         one more unit of this tier is worth more than any one shipment's km
    s.t.     Σ_s x_sd ≤ 1 for each request, Σ_d q_d·x_sd ≤ remaining_s for each listing, x binary
             (and Σ_d ⌊q_d/2⌋·x_sd ≤ ⌊remaining_s/2⌋, implied by the latter for binaries; see `_programme`).

Tiers are solved in order (1 = highest) on the supply the previous tiers left. To keep the programme
small each request only considers its `CANDIDATES` nearest allowed listings (exact whenever a request
has no more allowed listings than that). Those are found without measuring every pair: great-circle km on
a sphere (one matrix product) pre-selects, and the WGS84 geodesic measures only the pairs within the
sphere's error of a request's k-th nearest, so the candidates and every km are the geodesic's.

Each tier's LP relaxation is solved first (it bounds every plan: `stats` reports the gap to it). With
unit requests the constraint matrix is a transportation problem and the LP's vertex is the integral
optimum; requests of several units make it knapsack-like, and the MILP is then solved on the
neighbourhood of the LP's fractions (see `_fix_and_solve`), and the plan's km polished by exact moves of
one request size at a time (`_polish`). 1,000 listings × 2,000 requests take 1–2 s on 2 busy cores;
TIME_BUDGET_S bounds the solving.

Distance counts once per transfer (one shipment, as the compensation rule charges km × rate per transfer).
"""
import time
from dataclasses import dataclass, field

import numpy as np
from django.utils import timezone
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components

from exchange.models import Listing, TransferRequest
from kernel.geo import geodesic_m_array

CANDIDATES = 12
TIME_BUDGET_S = 3.0  # solving, after the distances: shared out between the tiers by their requests
MIP_GAP = 1e-4
PIECE_EDGES = 200  # small independent parts of the MILP are solved together, up to this many edges
UNIT_BONUS_FACTOR = 2.0
EARTH_KM = 6371.0088  # mean radius: the sphere that only pre-selects candidate pairs
SPHERE_ERROR = 0.01  # the sphere's distance is within 1% of the WGS84 geodesic (at most 0.56%)


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


@dataclass(frozen=True)
class Substitution:
    """Which listings may serve which requests: the listing a request named, or another listing of the asset
    class it asks for (a request without one, e.g. office space, only by the listing it named); never a listing
    of the requesting agency. Called on one pair, or `matrix` for all pairs at once (numpy: what keeps
    1,000 × 2,000 pairs fast)."""
    listing_class: dict  # listing id → asset class id
    request_class: dict  # request id → the asset class it asks for (None: only the listing it named)
    listing_agency: dict = field(default_factory=dict)  # listing id → giving agency id
    request_agency: dict = field(default_factory=dict)  # request id → requesting agency id

    def __call__(self, supply, demand):
        giver = self.listing_agency.get(supply.listing_id)
        if giver is not None and giver == self.request_agency.get(demand.request_id):
            return False
        if supply.listing_id == demand.listing_id:
            return True
        wanted = self.request_class.get(demand.request_id)
        return wanted is not None and self.listing_class.get(supply.listing_id) == wanted

    def matrix(self, supplies, demands):
        def codes(values, vocabulary, missing):  # equal values → equal ints; None → `missing`, equal to nothing
            return np.array([missing if v is None else vocabulary.setdefault(v, len(vocabulary)) for v in values])

        classes, agencies = {}, {}
        s_class = codes([self.listing_class.get(s.listing_id) for s in supplies], classes, -1)
        d_class = codes([self.request_class.get(d.request_id) for d in demands], classes, -2)
        s_agency = codes([self.listing_agency.get(s.listing_id) for s in supplies], agencies, -1)
        d_agency = codes([self.request_agency.get(d.request_id) for d in demands], agencies, -2)
        s_id = np.array([s.listing_id for s in supplies])
        d_listing = np.array([-1 if d.listing_id is None else d.listing_id for d in demands])
        same = (s_class[:, None] == d_class[None, :]) | (s_id[:, None] == d_listing[None, :])
        return same & (s_agency[:, None] != d_agency[None, :])


def geodesic_km(lon1, lat1, lon2, lat2):
    """The product's one WGS84 geodesic (kernel.geo.geodesic_m_array), in km; numpy-broadcasting."""
    return geodesic_m_array(lon1, lat1, lon2, lat2) / 1000


class _Points:
    """Supplies × demands: great-circle km on the sphere for every pair (haversine, numerically stable at
    short range; only to pre-select), the WGS84 geodesic for the pairs that may be among a demand's nearest."""

    def __init__(self, supplies, demands):
        self.s_lon, self.s_lat = (np.array([getattr(s, a) for s in supplies], dtype=float) for a in ("lon", "lat"))
        self.d_lon, self.d_lat = (np.array([getattr(d, a) for d in demands], dtype=float) for a in ("lon", "lat"))
        s_lon, s_lat, d_lon, d_lat = (np.radians(v) for v in (self.s_lon, self.s_lat, self.d_lon, self.d_lat))
        h = (np.sin((d_lat[None, :] - s_lat[:, None]) / 2) ** 2
             + np.outer(np.cos(s_lat), np.cos(d_lat)) * np.sin((d_lon[None, :] - s_lon[:, None]) / 2) ** 2)
        self.sphere = 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))

    def km(self, rows, cols):
        return geodesic_km(self.s_lon[rows], self.s_lat[rows], self.d_lon[cols], self.d_lat[cols])

    def nearest(self, feasible, k, columns=None):
        """Edges (rows, cols, km) from each demand (of `columns`, default all; cols index into them) to its `k`
        nearest feasible supplies by the geodesic, ties to the lower supply index: exact, because every pair
        whose sphere distance is within the sphere's error of the k-th nearest is measured."""
        sphere = self.sphere if columns is None else self.sphere[:, columns]
        cost = np.where(feasible, sphere, np.inf)
        k = min(k, len(cost))
        kth = np.partition(cost, k - 1, axis=0)[k - 1]
        limit = kth * (1 + SPHERE_ERROR) / (1 - SPHERE_ERROR) + 1e-3
        rows, cols = np.nonzero(np.isfinite(cost) & (cost <= limit))  # every feasible pair if fewer than k
        km = self.km(rows, cols if columns is None else np.asarray(columns)[cols])
        order = np.lexsort((rows, km, cols))
        rows, cols, km = rows[order], cols[order], km[order]
        rank = np.arange(len(cols)) - np.searchsorted(cols, cols)
        keep = rank < k
        return rows[keep], cols[keep], km[keep]


def _allowed_mask(supplies, demands, allowed):
    if allowed is _always:
        return np.ones((len(supplies), len(demands)), dtype=bool)
    if hasattr(allowed, "matrix"):
        return np.asarray(allowed.matrix(supplies, demands), dtype=bool).reshape(len(supplies), len(demands))
    return np.array([[bool(allowed(s, d)) for d in demands] for s in supplies], dtype=bool).reshape(
        len(supplies), len(demands))


def _reason(km, tier, nearest_km, mode):
    how_zh = "总运输距离最小化" if mode == "optimized" else "先到先得"
    how_en = "minimising total transport distance" if mode == "optimized" else "first come, first served"
    text = (f"优先级第{tier}档；距离 {km:.1f} km（最近可选挂牌 {nearest_km:.1f} km）；{how_zh}。 / "
            f"Priority tier {tier}; {km:.1f} km (nearest allowed listing {nearest_km:.1f} km); {how_en}.")
    return text


def _programme(rows, cols, units, remaining, n_demands):
    """Each request served at most once, each listing's units not exceeded, and the Chvátal–Gomory cut of
    the latter with multiplier ½ (Σ ⌊q/2⌋·x ≤ ⌊remaining/2⌋: e.g. a listing of 3 serves one request of 2,
    not one and a half): valid for every plan, it makes the LP relaxation much tighter."""
    edge = np.arange(len(rows))
    per_demand = csr_array((np.ones(len(rows)), (cols, edge)), shape=(n_demands, len(rows)))
    per_supply = csr_array((units, (rows, edge)), shape=(len(remaining), len(rows)))
    halves = csr_array((units // 2, (rows, edge)), shape=(len(remaining), len(rows)))
    return [LinearConstraint(per_demand, 0, 1), LinearConstraint(per_supply, 0, remaining),
            LinearConstraint(halves, 0, remaining // 2)]


def _solve_tier(rows, cols, q, km, remaining, n_demands, time_limit):
    """One tier's programme over candidate edges (rows = supply index, cols = local demand index). The LP
    relaxation first: its optimum bounds any plan from below, and HiGHS's simplex returns a vertex, integral
    when every request is of one unit. When it is fractional, the MILP is solved on the part the fractions
    touch (`_fix_and_solve`), and the better of that plan and the LP's whole edges completed greedily
    (nearest edge first) is kept, and then `_polish`ed. Returns (chosen edges, stats of the tier)."""
    started = time.monotonic()
    units = q[cols].astype(float)
    bonus = UNIT_BONUS_FACTOR * (float(km.max()) + 1.0)  # a served unit outweighs any one shipment's km
    cost = km - bonus * units
    lp = milp(cost, constraints=_programme(rows, cols, units, remaining, n_demands),
              integrality=np.zeros(len(rows)), bounds=Bounds(0, 1),
              options={"time_limit": max(time_limit, 0.5), "disp": False})
    x = lp.x if lp.x is not None else np.zeros(len(rows))  # without an LP in time, greedy from nothing
    whole = x > 1 - 1e-6
    plans = [_complete(whole.copy(), rows, cols, units, km, remaining, n_demands)]
    fractional = (x > 1e-6) & ~whole
    if fractional.any():
        plans.append(_complete(_fix_and_solve(whole, fractional, rows, cols, units, cost, remaining, n_demands,
                                              time_limit - (time.monotonic() - started)),
                               rows, cols, units, km, remaining, n_demands))
    chosen = min(plans, key=lambda plan: float(cost[plan].sum()))
    chosen = _polish(chosen, rows, cols, units, km, remaining, n_demands,
                     max(time_limit - (time.monotonic() - started), 0.2))
    stats = {}
    if lp.x is not None:
        stats = {"lp_km": float(km @ lp.x), "lp_units": float(units @ lp.x), "km": float(km[chosen].sum()),
                 "units": float(units[chosen].sum()),
                 "gap": (float(cost[chosen].sum()) - lp.fun) / max(abs(lp.fun), 1e-9)}
    return chosen, stats


def _fix_and_solve(whole, fractional, rows, cols, units, cost, remaining, n_demands, time_limit):
    """The LP's whole edges kept, except at the listings its fractions share; the MILP over the requests
    left open (those and the ones not wholly served) and the supply left to them. A neighbourhood of the LP
    small enough to solve exactly in a fraction of a second, and near the bound (the fractions mark where
    the LP cheats: it splits a request of 2 units, or fills a listing of 3 with one and a half of them).
    The neighbourhood falls apart into independent pieces (one per asset class at least); each is solved on
    its own, small pieces together, which keeps HiGHS far from its time limit on a busy machine."""
    started = time.monotonic()
    contested = np.zeros(len(remaining), dtype=bool)
    contested[rows[fractional]] = True
    kept = whole & ~contested[rows]
    open_demand = np.ones(n_demands, dtype=bool)
    open_demand[cols[kept]] = False
    left = remaining - np.bincount(rows[kept], weights=units[kept], minlength=len(remaining))
    open_edges = np.flatnonzero(open_demand[cols] & (left[rows] >= units))
    chosen = kept.copy()
    groups = _pieces(rows[open_edges], cols[open_edges], len(remaining), n_demands)
    for done, group in enumerate(groups):
        edges = open_edges[group]
        supply, s_local = np.unique(rows[edges], return_inverse=True)
        demand, d_local = np.unique(cols[edges], return_inverse=True)
        share = len(group) / sum(map(len, groups[done:]))  # of the time left, by size
        budget = (time_limit - (time.monotonic() - started)) * share
        sub = milp(cost[edges], constraints=_programme(s_local, d_local, units[edges], left[supply], len(demand)),
                   integrality=np.ones(len(edges)), bounds=Bounds(0, 1),
                   options={"time_limit": max(budget, 0.1), "disp": False, "mip_rel_gap": MIP_GAP})
        if sub.x is not None:
            chosen[edges[sub.x > 0.5]] = True
    return chosen


def _polish(chosen, rows, cols, units, km, remaining, n_demands, time_limit):
    """Fewer km for the same requests served: the requests of one size at a time move, the others stay.
    Each listing then has ⌊left / size⌋ slots and each moving request takes one: a transportation problem,
    whose LP vertex is integral (its matrix is totally unimodular), so the LP is the exact optimum of the move."""
    served = np.zeros(n_demands, dtype=bool)
    served[cols[chosen]] = True
    for size in np.unique(units[chosen]):
        moving = served[cols] & (units == size)
        stay = chosen & ~moving
        slots = np.floor((remaining - np.bincount(rows[stay], weights=units[stay], minlength=len(remaining))) / size)
        edges = np.flatnonzero(moving & (slots[rows] >= 1))
        edge = np.arange(len(edges))
        need = np.zeros(n_demands)
        need[cols[chosen & moving]] = 1
        lp = milp(km[edges], integrality=np.zeros(len(edges)), bounds=Bounds(0, 1),
                  constraints=[LinearConstraint(csr_array((np.ones(len(edges)), (cols[edges], edge)),
                                                          shape=(n_demands, len(edges))), need, need),
                               LinearConstraint(csr_array((np.ones(len(edges)), (rows[edges], edge)),
                                                          shape=(len(remaining), len(edges))), 0, slots)],
                  options={"time_limit": time_limit, "disp": False})
        if lp.x is not None and lp.status == 0 and np.all((lp.x < 1e-6) | (lp.x > 1 - 1e-6)):
            chosen = stay.copy()
            chosen[edges[lp.x > 0.5]] = True
    return chosen


def _pieces(rows, cols, n_supplies, n_demands):
    """Edge indices grouped by connected component of the supply–demand graph, small components
    together up to PIECE_EDGES edges (one HiGHS call each)."""
    graph = coo_array((np.ones(len(rows)), (rows, n_supplies + cols)), shape=(n_supplies + n_demands,) * 2)
    component = connected_components(graph, directed=False)[1][rows]
    order = np.argsort(component, kind="stable")
    starts = np.flatnonzero(np.diff(component[order], prepend=-1))
    groups, current = [], []
    for piece in np.split(order, starts[1:]):
        current.append(piece)
        if sum(map(len, current)) >= PIECE_EDGES:
            groups.append(np.concatenate(current))
            current = []
    if current:
        groups.append(np.concatenate(current))
    return groups


def _complete(chosen, rows, cols, units, km, remaining, n_demands):
    """`chosen` completed greedily: the demands it leaves over their nearest edges that still fit."""
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
    """Minimum total km, higher tiers (smaller number) served as fully as possible first. `allowed(supply,
    demand)` says which pairs may be used; one with a `matrix(supplies, demands)` method (`Substitution`) is
    asked once for all pairs. Deterministic: inputs are sorted by id and HiGHS is deterministic for a given
    model (a MILP stopped by its time limit is not). `stats` (a dict), when given, receives the plan's km and
    units and the LP relaxation's (`lp_km`, `lp_units`: a bound no plan can beat), and `gap_max`, the worst
    tier's relative gap of the objective to that bound."""
    supplies = sorted(supplies, key=lambda s: s.listing_id)
    demands = sorted(demands, key=lambda d: (d.tier, d.created_order, d.request_id))
    if not supplies or not demands:
        return []
    points = _Points(supplies, demands)
    mask = _allowed_mask(supplies, demands, allowed)
    deadline = time.monotonic() + TIME_BUDGET_S  # the solving budget, shared out between the tiers
    remaining = np.array([s.quantity for s in supplies], dtype=float)
    qty = np.array([d.quantity for d in demands], dtype=int)
    tiers = np.array([d.tier for d in demands])
    pairs = []  # (supply index, demand index, km)
    tier_list = sorted(set(tiers.tolist()))
    for done, tier in enumerate(tier_list):
        members = np.flatnonzero(tiers == tier)
        feasible = mask[:, members] & (remaining[:, None] >= qty[members][None, :])
        rows, cols, km = points.nearest(feasible, candidates, members)
        if not len(rows):
            continue
        share = len(members) / np.isin(tiers, tier_list[done:]).sum()  # of the time left, by requests
        chosen, tier_stats = _solve_tier(rows, cols, qty[members], km, remaining.copy(), len(members),
                                         (deadline - time.monotonic()) * share)
        if stats is not None and tier_stats:
            for key in ("lp_km", "lp_units", "km", "units"):
                stats[key] = stats.get(key, 0.0) + tier_stats[key]
            stats["gap_max"] = max(stats.get("gap_max", 0.0), tier_stats["gap"])
        np.subtract.at(remaining, rows[chosen], qty[members[cols[chosen]]])
        pairs += zip(rows[chosen].tolist(), members[cols[chosen]].tolist(), km[chosen].tolist(), strict=True)
    assert (remaining >= 0).all(), "optimizer over-allocated a listing"
    served = np.array([d for _, d, _ in pairs], dtype=int)
    _, near_cols, near_km = points.nearest(mask[:, served], 1, served)
    nearest = dict(zip(served[near_cols].tolist(), near_km.tolist(), strict=True))
    result = [Assignment(supplies[s].listing_id, demands[d].request_id, demands[d].quantity, round(km, 2),
                         _reason(km, demands[d].tier, nearest[d], "optimized")) for s, d, km in pairs]
    return sorted(result, key=lambda a: (a.listing_id, a.request_id))


def first_come(supplies, demands, allowed=_always) -> list[Assignment]:
    """Baseline: requests in arrival order, tiers ignored; each takes the listing it named if allowed and
    still large enough, else the oldest allowed listing that still has enough."""
    supplies = sorted(supplies, key=lambda s: s.listing_id)
    demands = sorted(demands, key=lambda d: (d.created_order, d.request_id))
    if not supplies or not demands:
        return []
    points = _Points(supplies, demands)
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
        km = float(points.km(s_idx, d_idx))
        nearest = float(points.nearest(mask[:, [d_idx]], 1, [d_idx])[2][0])
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
    points = _Points(supplies, demands)
    mask = _allowed_mask(supplies, demands, allowed)
    remaining = np.array([s.quantity for s in supplies])
    result = []
    for d_idx, demand in enumerate(demands):
        rows, _, km = points.nearest((mask[:, d_idx] & (remaining >= demand.quantity))[:, None], 1, [d_idx])
        if not len(rows):
            continue
        s_idx, km = int(rows[0]), float(km[0])
        remaining[s_idx] -= demand.quantity
        result.append(Assignment(supplies[s_idx].listing_id, demand.request_id, demand.quantity, round(km, 2),
                                 _reason(km, demand.tier, km, "first_come")))
    return sorted(result, key=lambda a: (a.listing_id, a.request_id))


def total_km(assignments):
    """Total transport distance: one shipment per transfer."""
    return round(sum(a.km for a in assignments), 2)


# --- adapter: models → dataclasses ------------------------------------------------------------------
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
    return supplies, demands, Substitution(listing_class, request_class, giver_of, requester)


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
