"""Webhooks: a jurisdiction's endpoint receives its events signed with HMAC-SHA256, failures are retried
with backoff and logged, a test ping is answered; against a real local receiver on 127.0.0.1."""
import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from kernel.errors import PermissionDenied, ValidationFailed
from lifecycle.models import WebhookDelivery
from lifecycle.services import webhooks
from tests import factories_exchange as fx

SECRET = "s3cret-of-the-city-system-0123"


class Receiver:
    """A local HTTP receiver: answers the queued status codes (then 200) and records every request."""

    def __init__(self):
        self.requests, self.answers = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = True
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def register(world, url, user="bureau_b", city="city_b", **kwargs):
    with transaction.atomic():
        return webhooks.register(world["users"][user], jurisdiction=world[city], url=url, secret=SECRET, **kwargs)[0]


def verified(headers, body):
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Gongwucang-Signature"], expected)


def test_events_of_the_jurisdiction_are_delivered_signed(world, receiver, django_capture_on_commit_callbacks):
    from tests.test_exchange_services import request

    register(world, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _req, transfer = request(world, fx.open_listing(world))  # Hangzhou requests a Shanghai item
    events = [json.loads(body)["event"] for _h, body in receiver.requests]
    assert "transfer.allocated" in events and "approval.opened" in events
    assert "listing.opened" not in events  # a Shanghai listing is not Hangzhou's event
    assert all(verified(h, body) for h, body in receiver.requests)
    headers, body = next((h, b) for h, b in receiver.requests if json.loads(b)["event"] == "transfer.allocated")
    assert json.loads(body)["transfer"] == transfer.pk and headers["X-Gongwucang-Event"] == "transfer.allocated"
    assert WebhookDelivery.objects.filter(status="delivered").count() == len(receiver.requests)
    assert webhooks.retry_due() == 0  # nothing left, a re-run sends nothing


def test_failures_are_retried_with_backoff_then_logged_as_failed(world, receiver, django_capture_on_commit_callbacks):
    register(world, receiver.url, events=["listing.opened"], user="bureau_a", city="city_a")
    receiver.answers = [500] * 10
    with django_capture_on_commit_callbacks(execute=True):
        fx.open_listing(world)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_retry = delivery.next_attempt_at
    assert webhooks.retry_due(now=first_retry - timedelta(seconds=1)) == 0  # not yet due
    gaps = []
    when = first_retry
    for _ in range(5):
        assert webhooks.retry_due(now=when) == 1
        delivery.refresh_from_db()
        gaps.append(delivery.next_attempt_at - when)
        when = delivery.next_attempt_at
    assert delivery.status == "failed" and delivery.attempts == 6 and len(receiver.requests) == 6
    assert gaps[:4] == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=16)]
    assert webhooks.retry_due(now=when + timedelta(days=1)) == 0


def test_a_retry_that_succeeds_is_delivered_once(world, receiver, django_capture_on_commit_callbacks):
    register(world, receiver.url, events=["listing.opened"], user="bureau_a", city="city_a")
    receiver.answers = [503]
    with django_capture_on_commit_callbacks(execute=True):
        fx.open_listing(world)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.retry_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert webhooks.deliver(delivery.pk, now=delivery.next_attempt_at + timedelta(hours=1)) is None


def test_registration_rules_and_the_test_endpoint(world, receiver, gql, settings):
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = False
    with pytest.raises(ValidationFailed):
        register(world, receiver.url)  # plain HTTP is for local receivers in development only
    with pytest.raises(ValidationFailed):
        register(world, "ftp://example.org/x")
    with pytest.raises(PermissionDenied):
        register(world, "https://city.example/hook", user="bureau_a")  # another jurisdiction
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = True
    result = gql.login(world["users"]["bureau_b"]).execute(
        """mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { webhook { id url } secret
           errors { field code message } } }""", {"i": {"jurisdictionCode": "330100", "url": receiver.url}})
    payload = result["data"]["registerWebhook"]
    assert payload["errors"] == [] and len(payload["secret"]) >= 32
    ping = gql.execute("""mutation($i: TestWebhookInput!) { testWebhook(input: $i) { statusCode error
        errors { code } } }""", {"i": {"webhookId": payload["webhook"]["id"]}})["data"]["testWebhook"]
    assert ping["statusCode"] == 200 and json.loads(receiver.requests[-1][1])["event"] == "ping"
    seen = gql.login(world["users"]["bureau_a"]).execute("{ webhooks { totalCount } }")["data"]["webhooks"]
    assert seen["totalCount"] == 0


def test_an_emergency_stop_pauses_the_jurisdictions_webhooks_until_lifted(world, receiver,
                                                                         django_capture_on_commit_callbacks):
    from regions.services import emergency

    register(world, receiver.url, events=["listing.opened"], user="bureau_a", city="city_a")
    with transaction.atomic():
        stop = emergency.stop_jurisdiction(world["users"]["coordinator"], world["city_a"], reason="令牌疑似泄露")
    with django_capture_on_commit_callbacks(execute=True):
        fx.open_listing(world)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, receiver.requests) == ("pending", 0, [])  # paused
    assert webhooks.retry_due(now=delivery.next_attempt_at + timedelta(hours=1)) == 0
    with transaction.atomic():
        emergency.lift_stop(world["users"]["coordinator"], stop, reason="已更换密钥")
    assert webhooks.retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.requests) == 1
