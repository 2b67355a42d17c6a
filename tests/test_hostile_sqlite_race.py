"""20 concurrent HTTP requests against a real server on the embedded default (a SpatiaLite file in WAL
mode, BEGIN IMMEDIATE, busy timeout, whole-transaction retry): exactly one allocation, the others typed
conflicts, never `internal` ("database is locked"); one handover confirmed 20 times at once completes once;
one idempotency key sent 20 times creates one asset."""
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter

import pytest
from django.conf import settings
from graphql_relay import to_global_id

ROOT = settings.BASE_DIR
pytestmark = pytest.mark.skipif(not settings.SPATIALITE, reason="the embedded SQLite default only")

REQUEST = """mutation($input: RequestListingInput!) { requestListing(input: $input) {
    transfer { id } errors { field code message } } }"""
HANDOVER = """mutation($input: ConfirmHandoverInput!) { confirmHandover(input: $input) {
    transfer { status } errors { field code message } } }"""
REGISTER = """mutation($input: RegisterAssetInput!) { registerAsset(input: $input) {
    asset { id } replayed errors { field code message } } }"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("race")
    env = {**os.environ, "DATABASE_URL": f"spatialite:///{tmp / 'race.sqlite3'}", "MEDIA_ROOT": str(tmp / "m"),
           "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "GRAPHQL_TOKEN_RATE": "100000/m",
           "CELERY_BROKER_URL": "", "SQLITE_BUSY_TIMEOUT": "5"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT, timeout=300)
    out = subprocess.run([*manage, "shell", "-c", "import tests.sqlite_race as s; s.main()"], env=env, check=True,
                         cwd=ROOT, capture_output=True, text=True, timeout=300).stdout
    scenario = json.loads(out.strip().splitlines()[-1])
    port = free_port()
    proc = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield base, scenario
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def post(base, session, query, variables):
    csrf = secrets.token_hex(16)  # any 32-character secret: the cookie and the header only have to agree
    request = urllib.request.Request(
        f"{base}/graphql/", data=json.dumps({"query": query, "variables": variables}).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf,
                 "Cookie": f"sessionid={session}; csrftoken={csrf}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - an HTTP failure is an outcome we count
            results[index] = {"http_error": repr(exc)}

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def outcome(result, name):
    if "http_error" in result or result.get("errors"):
        return f"leaked {result}"
    payload = result["data"][name]
    if payload["errors"]:
        return payload["errors"][0]["code"]
    return "ok"


def test_twenty_concurrent_requests_allocate_exactly_once(server):
    base, scenario = server

    def call(racer):
        return lambda: post(base, racer["session"], REQUEST, {"input": {
            "listingId": to_global_id("Listing", scenario["listing"]),
            "agencyId": to_global_id("Agency", racer["agency"]), "quantity": 1,
            "justification": "并发申领"}})

    results = race([call(r) for r in scenario["racers"]])
    counts = Counter(outcome(r, "requestListing") for r in results)
    assert counts["ok"] == 1, counts
    assert set(counts) <= {"ok", "ALREADY_ALLOCATED", "INVALID_STATE"}, counts
    assert sum(1 for r in results if r.get("data", {}).get("requestListing", {}).get("transfer")) == 1


def test_twenty_concurrent_handover_confirmations_complete_once(server):
    base, scenario = server
    data = {"transferId": to_global_id("Transfer", scenario["transfer"]), "receivedQuantity": 1,
            "receivedCondition": "GOOD"}
    results = race([lambda: post(base, scenario["receiver"], HANDOVER, {"input": data})] * 20)
    counts = Counter(outcome(r, "confirmHandover") for r in results)
    assert counts["ok"] == 1 and set(counts) <= {"ok", "INVALID_STATE"}, counts
    assert len([r for r in results if (r["data"]["confirmHandover"]["transfer"] or {}).get("status")]) == 1


def test_twenty_concurrent_registrations_with_one_idempotency_key_create_one_asset(server):
    base, scenario = server
    data = {"assetClassCode": "2010104", "description": "并发登记", "originalValue": "10.00",
            "acquiredOn": "2020-01-01", "idempotencyKey": "race-key-1"}
    results = race([lambda: post(base, scenario["giver"], REGISTER, {"input": data})] * 20)
    counts = Counter(outcome(r, "registerAsset") for r in results)
    assert counts == {"ok": 20}, counts
    ids = {r["data"]["registerAsset"]["asset"]["id"] for r in results}
    assert len(ids) == 1
    assert sum(1 for r in results if not r["data"]["registerAsset"]["replayed"]) == 1
