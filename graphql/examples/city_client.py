#!/usr/bin/env python3
"""A member city's system talking to Gongwucang, end to end, with the Python standard library only.

    python3 graphql/examples/city_client.py --base http://127.0.0.1:8000

1. signs in as the city's bureau manager from the command line (session + CSRF) and creates an API token;
2. from then on uses only the token (`Authorization: Bearer gwc_…`): who am I, the city's agencies (a bureau
   token names the agency it acts for with `agencyId`);
3. searches open listings near a point, nearest first, page by page with cursors;
4. requests one (idempotency key; standards breaches come back as STANDARDS_BREACH errors) and polls the
   approval lights of the transfer;
5. requests the transfer certificate (调拨单) of a completed transfer, polls the job, downloads the PDF and
   checks it against the public verification endpoint.

It sends only the operations of graphql/operations/ (with their `operationName`), so it also works against a
server that runs registered operations only (GRAPHQL_PERSISTED_OPERATIONS). Exit status 0 when every step
worked.
"""
import argparse
import hashlib
import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

OPERATIONS = Path(__file__).resolve().parent.parent / "operations"


class ApiError(Exception):
    pass


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.token = None
        self.last_headers = self.graphql_headers = {}

    # --- HTTP -------------------------------------------------------------------------------------------
    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(self, path, data=None, headers=None, method=None):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                self.last_headers = dict(response.headers)
                return response.status, response.read(), self.last_headers
        except urllib.error.HTTPError as exc:
            self.last_headers = dict(exc.headers)
            return exc.code, exc.read(), self.last_headers

    def login(self, username, password):
        """Session login the way a browser does it: fetch the form for the CSRF cookie, post it back."""
        self.request("/accounts/login/")
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": self.cookie("csrftoken")}).encode()
        self.request("/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded",
                                                "Referer": self.base + "/accounts/login/"})
        if self.cookie("sessionid") is None:
            raise ApiError(f"login as {username} failed")

    # --- GraphQL ----------------------------------------------------------------------------------------
    def operation(self, name, variables=None):
        """Run graphql/operations/<name>.graphql; return `data`, raise on any error."""
        body = json.dumps({"query": (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8"),
                           "operationName": name, "variables": variables or {}}).encode()
        headers = {"Content-Type": "application/json"}
        if not self.token:  # a session must prove it is not a cross-site request
            headers |= {"X-CSRFToken": self.cookie("csrftoken") or "", "Referer": self.base + "/graphql/"}
        status, content, self.graphql_headers = self.request("/graphql/", body, headers)
        result = json.loads(content)
        if result.get("errors"):
            raise ApiError(f"{name}: HTTP {status} {result['errors']}")
        return result["data"]

    def mutation(self, name, variables, field):
        """A mutation's payload; its typed `errors` ([{field, path, code, message}]) raise ApiError."""
        payload = self.operation(name, variables)[field]
        if payload["errors"]:
            raise ApiError(f"{name}: {[(e['code'], e['path'], e['message']) for e in payload['errors']]}")
        return payload


def say(step, text):
    print(f"[{step}] {text}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="hz_bureau")
    parser.add_argument("--password", default="demo-pass-2026")
    parser.add_argument("--jurisdiction", default="330100", help="division code of the city (杭州 330100)")
    parser.add_argument("--lon", type=float, default=120.155)
    parser.add_argument("--lat", type=float, default=30.274)
    parser.add_argument("--km", type=float, default=400)
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for the certificate PDF")
    args = parser.parse_args(argv)
    api = Client(args.base)
    run = uuid.uuid4().hex[:12]

    # 1. command-line login with CSRF, then an API token of the city
    api.login(args.username, args.password)
    created = api.mutation("TokenCreate", {"input": {
        "jurisdictionCode": args.jurisdiction, "name": f"city client {run}", "canWrite": True, "days": 1,
        "idempotencyKey": f"token-{run}"}}, "createApiToken")
    api.token = created["key"]
    api.cookies.clear()
    say(1, f"token {created['token']['prefix']}… scopes {created['token']['scopes']}, expires "
           f"{created['token']['expiresAt']}")

    # 2. who am I; the agency a bureau token acts for
    me = api.operation("RegionMe")["me"]
    say(2, f"{me['username']} via token: roles {[(r['role'], r['jurisdictionCode']) for r in me['roles']]}")
    agencies = api.operation("Agencies", {"jurisdictionCode": args.jurisdiction, "first": 50})["agencies"]
    agency = next((e["node"] for e in agencies["edges"] if not e["node"]["isAffairsBureau"]),
                  agencies["edges"][0]["node"])
    say(2, f"acting for {agency['nameZh']} (agencyId {agency['id']})")

    # 3. search near a point, nearest first, two pages at a time with cursors
    near = {"type": "Point", "coordinates": [args.lon, args.lat]}
    candidates, after = [], None
    while True:
        page = api.operation("SearchNearbyListings", {"near": near, "withinKm": args.km, "window": "REGION",
                                                      "first": 2, "after": after})["listings"]
        candidates += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"] or len(candidates) >= 10:
            break
        after = page["pageInfo"]["endCursor"]
    mine = [c for c in candidates if c["jurisdiction"]["code"] != args.jurisdiction]
    for listing in mine:
        say(3, f"{listing['distanceKm']:8.2f} km  {listing['title']}  ({listing['jurisdiction']['nameZh']}, "
               f"{listing['window']}, {listing['quantityAvailable']} available)")
    if not mine:
        raise ApiError("no open listing of another jurisdiction in the region window near the point")

    # 4. request one; follow the lights of its transfer
    transfer = None
    for listing in mine:
        variables = {"input": {"listingId": listing["id"], "agencyId": agency["id"], "quantity": 1,
                               "justification": "新增人员办公需要 (city client)",
                               "idempotencyKey": f"req-{run}-{listing['id']}"}}
        payload = api.operation("RequestListing", variables)["requestListing"]
        if payload["errors"]:
            say(4, f"not this one: {[(e['code'], e['message']) for e in payload['errors']]}")
            continue
        replay = api.operation("RequestListing", variables)["requestListing"]
        assert replay["request"]["id"] == payload["request"]["id"], "an idempotent retry returns the first result"
        say(4, f"requested {listing['title']}: request {payload['request']['status']}; a retry with the same key "
               "returned the same request")
        transfer = payload["transfer"]
        break
    if transfer is None:
        raise ApiError("every nearby listing was refused")
    for _ in range(2):
        lights = api.operation("TransferLights", {"id": transfer["id"]})["transfer"]
        say(4, f"transfer {lights['status']}: " + ", ".join(f"{s['kind']} {s['decision']} {s['light'] or ''} due "
                                                         f"{s['dueAt'][:10]}" for s in lights["steps"]))
        time.sleep(1)

    # 5. the certificate of a completed transfer: request, poll, download, verify
    done = api.operation("TransferList", {"status": "COMPLETED", "first": 1})["transfers"]["edges"]
    if not done:
        raise ApiError("no completed transfer to certify")
    completed = done[0]["node"]
    job = api.mutation("ReportRequest", {"kind": "TRANSFER_CERTIFICATE", "transferId": completed["id"],
                                         "idempotencyKey": f"cert-{run}"}, "requestReport")["job"]
    deadline = time.monotonic() + args.timeout
    while job["status"] not in ("SUCCEEDED", "FAILED") and time.monotonic() < deadline:
        time.sleep(1)
        job = api.operation("ReportJob", {"id": job["id"]})["reportJob"]
    if job["status"] != "SUCCEEDED":
        raise ApiError(f"certificate job {job['status']} {job.get('error') or '(timed out)'}")
    status, pdf, headers = api.request(job["downloadUrl"])
    if status != 200 or not pdf.startswith(b"%PDF") or hashlib.sha256(pdf).hexdigest() != headers.get(
            "X-Content-SHA256"):
        raise ApiError(f"download failed: HTTP {status}")
    say(5, f"certificate of transfer {completed['certificateCode']}: {len(pdf)} bytes, sha256 verified")
    api.token = None
    status, content, _ = api.request(f"/reports/verify/{urllib.parse.quote(completed['certificateCode'])}",
                                     headers={"Accept": "application/json"})
    facts = json.loads(content)
    if status != 200 or not facts.get("valid") or facts.get("certificateCode") != completed["certificateCode"]:
        raise ApiError(f"verification failed: HTTP {status} {facts}")
    say(5, f"verified publicly: {facts['certificateNo']} {facts['giver']['agency']} → {facts['receiver']['agency']}, "
           f"{facts['quantity']} {facts['unit']} {facts['item']}, checksums {len(facts['dataChecksums'])}")
    limits = api.graphql_headers
    say("ok", f"every step worked; rate limit left {limits.get('X-RateLimit-Remaining')}/"
              f"{limits.get('X-RateLimit-Limit')} until {limits.get('X-RateLimit-Reset')}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ApiError, urllib.error.URLError, AssertionError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
