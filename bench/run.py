"""Benchmark suite: `make bench` runs `python -m bench.run` inside a throwaway PostGIS cluster
(scripts/test-postgis.sh sets DATABASE_URL). Writes bench/results.json and prints a table.

Every figure is measured in this run against a baseline measured in the same run; a figure that cannot be
measured (a dependency not built yet) is written as null with the reason in `notes`. Data is seeded
(SEED) so that runs are comparable.
"""
import csv
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

SEED = 20261125
RESULTS = Path(__file__).resolve().parent / "results.json"
OPERATIONS = Path(settings.BASE_DIR) / "graphql" / "operations"
N_POINTS = int(os.environ.get("BENCH_POINTS", 1_000_000))
N_IMPORT = int(os.environ.get("BENCH_IMPORT_ROWS", 100_000))
N_PDF = int(os.environ.get("BENCH_PDF_ROWS", 10_000))
KNN_SAMPLES = 60
TARGETS = {
    "query_count_page_1": "== query_count_page_100, <= 12",
    "knn_ratio": "<= 1.5", "knn_ms_median": "<= 25",
    "optimizer_saving_pct": ">= 15", "optimizer_seconds": "< 10",
    "pdf_ratio": "<= 1.3", "import_ratio": "<= 2",
    "double_allocations": "== 0", "total_seconds": "< 900",
}

results: dict = {}
notes: dict = {}


def log(text):
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def unavailable(keys, reason):
    for key in keys:
        results[key] = None
    notes[keys[0]] = reason
    log(f"not measured: {', '.join(keys)} — {reason}")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


# --- machine and data -------------------------------------------------------------------------------
def machine():
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), postgis_full_version()")
        pg, postgis = cursor.fetchone()
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "os": platform.platform(), "postgresql": pg,
            "postgis": " ".join(postgis.split(" ")[:2]),
            "database_vendor": connection.vendor, "seed": SEED}


def setup_world():
    """Migrate, load the demo region, asset classes and a coordinator; returns (region, users)."""
    from django.contrib.auth import get_user_model

    from exchange.models import AssetClass
    from regions import demo

    call_command("migrate", verbosity=0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    region = demo.load_all()
    for code, name_zh, name_en, kind in [("2010104", "台式计算机", "Desktop computer", "equipment"),
                                         ("2010105", "便携式计算机", "Laptop", "equipment"),
                                         ("2010601", "打印机", "Printer", "equipment"),
                                         ("6010201", "办公桌", "Desk", "furniture"),
                                         ("6010301", "办公椅", "Office chair", "furniture")]:
        AssetClass.objects.get_or_create(code=code, defaults={"name_zh": name_zh, "name_en": name_en, "kind": kind})
    users = {u.username: u for u in get_user_model().objects.all()}
    return region, users


def generate_points(region, n):
    """n assets and n open listings at seeded random points over the demo region, in SQL."""
    from exchange.models import Asset, AssetClass, Listing
    from regions.models import Agency

    agencies = list(Agency.objects.values_list("id", "jurisdiction_id"))
    classes = list(AssetClass.objects.values_list("id", flat=True))
    agency_ids = "ARRAY[" + ",".join(str(a) for a, _ in agencies) + "]"
    class_ids = "ARRAY[" + ",".join(str(c) for c in classes) + "]"
    asset, listing = Asset._meta.db_table, Listing._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [0.42])
        cursor.execute(f"""
            INSERT INTO {asset} (agency_id, asset_class_id, description, quantity, unit, original_value, acquired_on,
                                 condition, location, status, created_at)
            SELECT ({agency_ids})[1 + floor(random() * {len(agencies)})::int],
                   ({class_ids})[1 + floor(random() * {len(classes)})::int],
                   'bench asset ' || g, 1 + floor(random() * 3)::int, '台', round((300 + random() * 9000)::numeric, 2),
                   date '2015-01-01' + floor(random() * 3000)::int, 'good',
                   ST_SetSRID(ST_MakePoint(115.5 + random() * 7.0, 27.5 + random() * 7.5), 4326), 'listed', now()
            FROM generate_series(1, %s) g""", [n])
        cursor.execute(f"""
            INSERT INTO {listing} (region_id, agency_id, jurisdiction_id, asset_id, office_space_id, title, search_text,
                                   location, quantity, quantity_available, opened_at, own_window_ends_at,
                                   region_window_ends_at, status, created_by_id)
            SELECT %s, a.agency_id, ag.jurisdiction_id, a.id, NULL, a.description, lower(a.description), a.location,
                   a.quantity, a.quantity, now() - interval '10 days', now() - interval '3 days',
                   now() + interval '11 days', 'open', NULL
            FROM {asset} a JOIN regions_agency ag ON ag.id = a.agency_id
            WHERE a.description LIKE 'bench asset %%'""", [region.pk])
        cursor.execute(f"ANALYZE {asset}; ANALYZE {listing};")


# --- query count: transfers list with nested data ---------------------------------------------------
def bench_query_count(region, users):
    from exchange.models import ApprovalStep, Listing, Transfer, TransferRequest
    from regions.models import Agency

    agencies = list(Agency.objects.order_by("id"))
    listings = list(Listing.objects.filter(title__startswith="bench asset").select_related("agency")
                    .order_by("id")[:150])
    now = timezone.now()
    requests, transfers = [], []
    for i, listing in enumerate(listings):
        receiver = next(a for a in agencies[i % len(agencies):] + agencies if a.pk != listing.agency_id)
        requests.append(TransferRequest(listing=listing, agency=receiver, quantity=1, justification="bench",
                                        status=TransferRequest.Status.ALLOCATED))
    TransferRequest.objects.bulk_create(requests)
    for request in requests:
        listing = request.listing
        transfers.append(Transfer(request=request, listing=listing, region=region, giver_id=listing.agency_id,
                                  receiver=request.agency, giver_jurisdiction_id=listing.jurisdiction_id,
                                  receiver_jurisdiction_id=request.agency.jurisdiction_id, quantity=1,
                                  value=Decimal("1000.00"), distance_km=Decimal("10.00"), allocation_reason="bench"))
    Transfer.objects.bulk_create(transfers)
    steps = []
    for t in transfers:
        for kind, scope in ((ApprovalStep.Kind.GIVING_BUREAU, {"jurisdiction_id": t.giver_jurisdiction_id}),
                            (ApprovalStep.Kind.RECEIVING_BUREAU, {"jurisdiction_id": t.receiver_jurisdiction_id}),
                            (ApprovalStep.Kind.COORDINATOR, {"region_id": region.pk})):
            steps.append(ApprovalStep(transfer=t, kind=kind, opened_at=now, yellow_at=now + timedelta(days=3),
                                      due_at=now + timedelta(days=5), **scope))
    ApprovalStep.objects.bulk_create(steps)
    query = (OPERATIONS / "TransferList.graphql").read_text(encoding="utf-8")
    client = Client()
    client.force_login(users["coordinator"])
    counts = {}
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post("/graphql/", json.dumps({"query": query, "variables": {"first": size}}),
                                   content_type="application/json")
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"TransferList failed: {body['errors'][:1]}")
        assert len(body["data"]["transfers"]["edges"]) == size
        counts[size] = len(ctx)
    results["query_count_page_1"], results["query_count_page_100"] = counts[1], counts[100]


# --- KNN -----------------------------------------------------------------------------------------------
def bench_knn(users):
    from django.contrib.gis.geos import Point

    from exchange import selectors
    from exchange.models import Listing

    user = users["coordinator"]
    rng = random.Random(SEED)
    points = [(rng.uniform(116.0, 122.0), rng.uniform(28.0, 34.5)) for _ in range(KNN_SAMPLES)]
    raw = (f"SELECT id FROM {Listing._meta.db_table} ORDER BY location <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326) "
           "LIMIT 20")

    def via_selector(lon, lat):
        return [x.pk for x in selectors.listings_for(user, near=Point(lon, lat, srid=4326))[:20]]

    def via_raw(lon, lat):
        with connection.cursor() as cursor:
            cursor.execute(raw, [lon, lat])
            return [r[0] for r in cursor.fetchall()]

    for lon, lat in points[:5]:  # warm caches and the principal
        via_selector(lon, lat), via_raw(lon, lat)
    sel_ms, raw_ms, same = [], [], 0
    for lon, lat in points:
        t_sel, ids_sel = timed(via_selector, lon, lat)
        t_raw, ids_raw = timed(via_raw, lon, lat)
        sel_ms.append(t_sel * 1000)
        raw_ms.append(t_raw * 1000)
        same += set(ids_sel) == set(ids_raw)
    results["knn_ms_median"] = round(statistics.median(sel_ms), 2)
    results["knn_raw_sql_ms_median"] = round(statistics.median(raw_ms), 2)
    results["knn_ratio"] = round(results["knn_ms_median"] / results["knn_raw_sql_ms_median"], 2)
    results["knn_points"] = Listing.objects.count()
    results["knn_samples"] = len(points)
    results["knn_same_rows_share"] = round(same / len(points), 3)
    # Experiment, labelled as such: the selector's query ordered by the KNN distance alone (no `id` tie-break),
    # which is the change suggested to the selector's owner.
    from django.contrib.gis.db.models.functions import Distance, GeometryDistance

    from regions.permissions import restrict

    heavy = [f"{path}__{name}" for path in ("jurisdiction", "agency__jurisdiction")
             for name in ("boundary", "boundary_simplified")]

    def variant(lon, lat, defer=()):
        point = Point(lon, lat, srid=4326)
        qs = restrict(Listing.objects.select_related(*selectors.LISTING_RELATED).defer(*defer), user)
        qs = qs.annotate(distance_m=Distance("location", point)).order_by(GeometryDistance("location", point))
        return [x.pk for x in qs[:20]]

    var_ms = [timed(variant, lon, lat)[0] * 1000 for lon, lat in points]
    results["knn_variant_no_tiebreak_ms_median"] = round(statistics.median(var_ms), 2)
    var_ms = [timed(variant, lon, lat, heavy)[0] * 1000 for lon, lat in points]
    results["knn_variant_no_tiebreak_defer_boundaries_ms_median"] = round(statistics.median(var_ms), 2)
    notes["knn_variant_no_tiebreak_defer_boundaries_ms_median"] = (
        "experiment: as above and .defer() of the joined jurisdictions' boundary geometries (the selector loads "
        "two MultiPolygons per joined jurisdiction per row)")
    notes["knn_variant_no_tiebreak_ms_median"] = ("experiment, not the project's selector: the same restricted, "
                                                  "select_related query ordered by `location <-> point` only")
    lon, lat = points[0]
    point = Point(lon, lat, srid=4326)
    results["knn_explain_variant"] = (
        restrict(Listing.objects.select_related(*selectors.LISTING_RELATED), user)
        .annotate(distance_m=Distance("location", point)).order_by(GeometryDistance("location", point))[:20]
        .explain(analyze=True).splitlines())
    qs = selectors.listings_for(user, near=Point(lon, lat, srid=4326))[:20]
    results["knn_explain_selector"] = qs.explain(analyze=True).splitlines()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + raw, [lon, lat])
        results["knn_explain_raw"] = [r[0] for r in cursor.fetchall()]
    notes["knn_ms_median"] = ("exchange.selectors.listings_for(coordinator, near=point)[:20] evaluated to model "
                              "instances (restrict + select_related + geodesic distance), vs raw "
                              "`ORDER BY location <-> point LIMIT 20` returning ids")


# --- optimizer -------------------------------------------------------------------------------------------
def bench_optimizer():
    from exchange.services.optimizer import Demand, Supply, first_come, optimize, total_km
    from regions.models import Agency, Jurisdiction

    rng = random.Random(SEED)
    centres = [(j.centroid.x, j.centroid.y) for j in Jurisdiction.objects.filter(centroid__isnull=False)]
    centres += [(a.location.x, a.location.y) for a in Agency.objects.all()]

    def point():
        lon, lat = rng.choice(centres)
        return lon + rng.gauss(0, 0.15), lat + rng.gauss(0, 0.15)

    supplies = [Supply(i, rng.randint(1, 3), *point()) for i in range(1, 1001)]
    kind = {s.listing_id: rng.randrange(5) for s in supplies}
    demands = [Demand(10_000 + j, rng.choice((1, 1, 1, 2)), rng.choice((1, 2, 2, 3)), *point(), j,
                      rng.randint(1, 1000)) for j in range(2000)]
    wants = {d.request_id: kind[d.listing_id] for d in demands}

    def allowed(s, d):
        return kind[s.listing_id] == wants[d.request_id]

    seconds, optimized = timed(optimize, supplies, demands, allowed)
    fcfs_seconds, fcfs = timed(first_come, supplies, demands, allowed)
    opt_units, fcfs_units = sum(a.quantity for a in optimized), sum(a.quantity for a in fcfs)
    results["optimizer_km"], results["fcfs_km"] = total_km(optimized), total_km(fcfs)
    results["optimizer_units"], results["fcfs_units"] = opt_units, fcfs_units
    per_unit_opt, per_unit_fcfs = results["optimizer_km"] / opt_units, results["fcfs_km"] / fcfs_units
    results["optimizer_saving_pct"] = round(100 * (1 - per_unit_opt / per_unit_fcfs), 1)
    results["optimizer_seconds"] = round(seconds, 2)
    results["fcfs_seconds"] = round(fcfs_seconds, 2)
    notes["optimizer_saving_pct"] = (
        "1,000 listings (qty 1-3) × 2,000 requests (qty 1-2, tiers 1-3) at seeded points around the demo "
        "jurisdictions; a request may be served by any listing of its asset class (5 classes). Baseline "
        "first-come serves requests in arrival order from the listing they named, ignoring tiers. Saving is on km "
        "per unit served; units served are reported (tier-by-tier priority can serve a few units fewer in "
        "total than first-come, since tier 1 is served first whatever it costs the lower tiers).")


# --- PDF ---------------------------------------------------------------------------------------------
def bench_pdf():
    try:
        from reports import data as d
        from reports.render import FONT, ROWS_PER_TABLE, register_font, render_allocation_report
    except ImportError as exc:
        return unavailable(["pdf_rows", "pdf_seconds", "pdf_raw_seconds", "pdf_ratio"],
                           f"reports renderer not available: {exc}")
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import LongTable, SimpleDocTemplate

    rng = random.Random(SEED)
    places = ["上海市", "杭州市", "南京市", "苏州市", "合肥市", "宁波市", "无锡市"]
    rows = []
    for i in range(N_PDF):
        allocated = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
        completed = allocated + timedelta(days=rng.randrange(1, 30)) if rng.random() < 0.7 else None
        rows.append(d.TransferRow(
            transfer_id=i + 1, allocated_on=allocated, completed_on=completed, giver_jurisdiction=rng.choice(places),
            receiver_jurisdiction=rng.choice(places), giver="上海市统计局", receiver="杭州市教育局",
            item=f"联想台式机 {i}", quantity=rng.randint(1, 3), value=Decimal(rng.randint(1000, 90000)) / 10,
            status_zh="已完成 completed" if completed else "审批中 approving",
            turnaround_days=Decimal((completed - allocated).days) if completed else None))
    from regions.models import Region
    from reports.builders import heading

    head = heading(Region.objects.get(code="yrd"), None, date(2026, 1, 1), date(2026, 12, 31))
    seconds, pdf = timed(lambda: render_allocation_report(d.allocation_from_rows(head, rows)))

    def raw():
        register_font()
        buffer = BytesIO()
        body = [["No.", "Allocated", "Completed", "From", "To", "Giver → receiver", "Item", "Qty", "Value",
                 "Status", "Days"]]
        body += [[str(r.transfer_id), r.allocated_on.isoformat(), r.completed_on.isoformat() if r.completed_on
                  else "—", r.giver_jurisdiction, r.receiver_jurisdiction, f"{r.giver}→{r.receiver}", r.item,
                  str(r.quantity), f"{r.value:,.2f}", r.status_zh.split(" ")[0],
                  f"{r.turnaround_days:.0f}" if r.turnaround_days is not None else "—"] for r in rows]
        tables = [LongTable([body[0]] + body[i:i + ROWS_PER_TABLE], repeatRows=1,
                            style=[("FONT", (0, 0), (-1, -1), FONT, 6.5)])
                  for i in range(1, len(body), ROWS_PER_TABLE)]  # same chunking as the renderer
        SimpleDocTemplate(buffer, pagesize=A4).build(tables)
        return buffer.getvalue()

    raw_seconds, raw_pdf = timed(raw)
    results.update(pdf_rows=len(rows), pdf_seconds=round(seconds, 2), pdf_raw_seconds=round(raw_seconds, 2),
                   pdf_ratio=round(seconds / raw_seconds, 2), pdf_bytes=len(pdf), pdf_raw_bytes=len(raw_pdf))
    notes["pdf_ratio"] = ("reports.render.render_allocation_report on 10,000 in-memory TransferRows (summaries, "
                          "charts, flows, detail tables) vs a minimal reportlab LongTable of the same rows and font")


# --- import --------------------------------------------------------------------------------------------
def bench_import(tmp):
    from exchange.models import Asset
    from exchange.services import bulk_import
    from regions.models import Agency

    agency = Agency.objects.select_related("jurisdiction").get(code="11310000MB0001001A")
    boundary = agency.jurisdiction.boundary
    rng = random.Random(SEED)
    xmin, ymin, xmax, ymax = boundary.extent
    path = Path(tmp) / "assets.csv"
    inside = boundary.prepared.contains
    from django.contrib.gis.geos import Point

    pool = []
    while len(pool) < 500:  # points inside Shanghai's outline, reused
        p = Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax), srid=4326)
        if inside(p):
            pool.append((round(p.x, 6), round(p.y, 6)))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(bulk_import.COLUMNS)
        for i in range(N_IMPORT):
            lon, lat = pool[i % len(pool)]
            writer.writerow(["2010104", f"导入台式机 {i}", rng.randint(1, 5), "台", f"{rng.randint(500, 9000)}.50",
                             f"20{rng.randint(15, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "good", lon, lat])
    before = Asset.objects.count()
    with open(os.devnull, "w") as devnull:
        stderr, sys.stderr = sys.stderr, devnull
        try:
            seconds, _ = timed(call_command, "import_assets", str(path), agency=agency.code, stdout=devnull)
        finally:
            sys.stderr = stderr
    imported = Asset.objects.count() - before
    assert imported == N_IMPORT, f"imported {imported} of {N_IMPORT}"

    def raw():  # parse the same file minimally and bulk_create in one transaction, same batch size
        objs = []
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                objs.append(Asset(agency_id=agency.pk, asset_class_id=class_id, description=row["description"],
                                  quantity=int(row["quantity"]), unit=row["unit"],
                                  original_value=Decimal(row["original_value"]),
                                  acquired_on=date.fromisoformat(row["acquired_on"]), condition=row["condition"],
                                  location=Point(float(row["lon"]), float(row["lat"]), srid=4326)))
        with transaction.atomic():
            Asset.objects.bulk_create(objs, batch_size=bulk_import.BATCH_SIZE)

    from exchange.models import AssetClass

    class_id = AssetClass.objects.get(code="2010104").pk
    raw_seconds, _ = timed(raw)
    results.update(import_rows=imported, import_seconds=round(seconds, 2), import_raw_seconds=round(raw_seconds, 2),
                   import_ratio=round(seconds / raw_seconds, 2))
    notes["import_ratio"] = ("`manage.py import_assets` (validate every row incl. point-in-boundary, then batched "
                             "bulk_create in one transaction, audit) vs parsing the same CSV into Asset objects and "
                             "bulk_create in one transaction, on PostGIS")


# --- ledger --------------------------------------------------------------------------------------------
def bench_ledger(region, users):
    from django.apps import apps

    from exchange.models import Transfer
    from ledger import services as ledger

    ledger_models = list(apps.get_app_config("ledger").get_models()) if apps.is_installed("ledger") else []
    if not ledger_models:
        return unavailable(["ledger_posts_per_s"], "ledger has no models yet: on_transfer_completed is "
                                                   "still the pre-wired no-op, nothing to post")
    transfers = list(Transfer.objects.filter(allocation_reason="bench").order_by("id"))
    Transfer.objects.filter(pk__in=[t.pk for t in transfers]).update(
        status=Transfer.Status.COMPLETED, completed_at=timezone.now(), received_quantity=1, received_condition="good")
    for t in transfers:
        t.refresh_from_db()
    journal = next((m for m in ledger_models if m.__name__ == "JournalTransaction"), None)
    counts_before = {m: m.objects.count() for m in ledger_models}
    start = time.perf_counter()
    for t in transfers:
        with transaction.atomic():
            ledger.on_transfer_completed(t, users["coordinator"])
    seconds = time.perf_counter() - start
    written = {m.__name__: m.objects.count() - n for m, n in counts_before.items()}
    posts = written.get("JournalTransaction") if journal is not None else None
    if not any(written.values()):
        return unavailable(["ledger_posts_per_s"], "on_transfer_completed wrote no ledger rows (not implemented)")
    results["ledger_transfers_processed"] = len(transfers)
    results["ledger_transactions_posted"] = posts
    results["ledger_seconds"] = round(seconds, 2)
    results["ledger_posts_per_s"] = round((posts if posts else len(transfers)) / seconds, 1)
    results["ledger_rows_written"] = sum(written.values())
    notes["ledger_posts_per_s"] = (
        "ledger.services.on_transfer_completed on 150 completed transfers between demo agencies, one "
        "transaction each, invariants (DB constraints/triggers) on; rate = journal transactions posted per second "
        "(transfers within one member jurisdiction post nothing and are not counted)")


# --- concurrency -----------------------------------------------------------------------------------
def bench_concurrency(region):
    from exchange.models import Listing, Transfer, TransferRequest
    from exchange.services import allocation
    from kernel.errors import DomainError
    from regions.models import Agency

    listing = Listing.objects.filter(title__startswith="bench asset", transfers__isnull=True).select_related(
        "agency").order_by("-id").first()
    Listing.objects.filter(pk=listing.pk).update(quantity=1, quantity_available=1)
    receivers = list(Agency.objects.exclude(pk=listing.agency_id))
    requests = TransferRequest.objects.bulk_create(
        TransferRequest(listing=listing, agency=receivers[i % len(receivers)], quantity=1, justification="bench")
        for i in range(50))
    barrier = threading.Barrier(50)
    outcome = {"ok": 0, "refused": 0, "error": []}
    lock = threading.Lock()

    def claim(request_id):
        try:
            request = TransferRequest.objects.select_related("listing__region", "listing__agency",
                                                             "listing__asset", "agency").get(pk=request_id)
            barrier.wait()
            with transaction.atomic():
                allocation.allocate(None, request, 1, reason="bench concurrent claim")
            with lock:
                outcome["ok"] += 1
        except DomainError:
            with lock:
                outcome["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with lock:
                outcome["error"].append(repr(exc)[:200])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(r.pk,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = Transfer.objects.filter(listing=listing).count()
    listing.refresh_from_db()
    results["concurrent_claims"] = len(threads)
    results["successful_claims"] = outcome["ok"]
    results["refused_claims"] = outcome["refused"]
    results["claim_errors"] = len(outcome["error"])
    results["double_allocations"] = max(0, made - listing.quantity) + (listing.quantity_available < 0)
    if outcome["error"]:
        notes["claim_errors"] = outcome["error"][:3]
    notes["concurrent_claims"] = ("50 threads, each its own DB connection, released together by a barrier, call "
                                  "exchange.services.allocation.allocate on one listing of quantity 1")


# --- run -----------------------------------------------------------------------------------------------
def run_step(name, fn, *args, keys=()):
    log(f"{name} …")
    try:
        seconds, _ = timed(fn, *args)
        log(f"{name} done in {seconds:.1f} s")
        results.setdefault("step_seconds", {})[name] = round(seconds, 1)
    except Exception as exc:  # noqa: BLE001 - a failing benchmark is reported, the others still run
        traceback.print_exc()
        for key in keys:
            results.setdefault(key, None)
        notes[f"{name}_error"] = f"{type(exc).__name__}: {exc}"[:500]


def table():
    lines = [f"{'key':<52} {'value':>16}  target"]
    for key, value in results.items():
        if key.startswith("knn_explain") or isinstance(value, dict | list):
            continue
        target = TARGETS.get(key, "")
        lines.append(f"{key:<52} {'null' if value is None else str(value):>16}  {target}")
    return "\n".join(lines)


def main():
    started = time.perf_counter()
    if connection.vendor != "postgresql":
        sys.exit("bench: run on PostGIS (`make bench`); DATABASE_URL is " + settings.DATABASE_URL.split(":")[0])
    region, users = setup_world()
    results["machine"] = machine()
    run_step("generate_points", generate_points, region, N_POINTS)
    run_step("query_count", bench_query_count, region, users, keys=["query_count_page_1", "query_count_page_100"])
    run_step("knn", bench_knn, users, keys=["knn_ms_median", "knn_raw_sql_ms_median", "knn_ratio"])
    run_step("optimizer", bench_optimizer, keys=["optimizer_km", "fcfs_km", "optimizer_saving_pct",
                                                 "optimizer_seconds"])
    run_step("pdf", bench_pdf, keys=["pdf_rows", "pdf_seconds", "pdf_raw_seconds", "pdf_ratio"])
    with tempfile.TemporaryDirectory() as tmp:
        run_step("import", bench_import, tmp, keys=["import_rows", "import_seconds", "import_raw_seconds",
                                                    "import_ratio"])
    run_step("ledger", bench_ledger, region, users, keys=["ledger_posts_per_s"])
    run_step("concurrency", bench_concurrency, region, keys=["concurrent_claims", "double_allocations"])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                           text=True, cwd=settings.BASE_DIR).stdout.strip()
    results["measured_at"] = timezone.now().isoformat(timespec="seconds")
    results["targets"] = TARGETS
    results["notes"] = notes
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(table())
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
