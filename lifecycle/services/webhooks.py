"""Webhooks for member-city systems. A jurisdiction's bureau registers an endpoint (HTTPS; plain HTTP only
to 127.0.0.1/localhost when WEBHOOKS_ALLOW_LOCAL_HTTP is on, for local receivers) and a secret. Every
audit event of that jurisdiction (or one of the two sides of its transfers) becomes a delivery, POSTed by a
Celery task as JSON with the header `X-Gongwucang-Signature: sha256=<hex HMAC-SHA256 of the body under the
secret>`; a failure is retried with exponential backoff (1, 2, 4, 8, 16 minutes), then marked failed; each
attempt is in the delivery log. `send_test` POSTs a signed `ping` at once."""
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit
from kernel.compiled import Compiled
from kernel.errors import ValidationFailed
from lifecycle.models import WebhookDelivery, WebhookEndpoint
from regions.membership import ancestors
from regions.permissions import Scope, require
from regions.services import emergency

MAX_ATTEMPTS = 6
BACKOFF = timedelta(minutes=1)
TIMEOUT_S = 5
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Whether any endpoint listens: asked on every audit event, so compiled once (kernel.compiled).
_LISTENING = Compiled(lambda: WebhookEndpoint.objects.filter(active=True).values_list("id")[:1], (), ())


def signature(secret, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_url(url):
    parsed = urlparse(url or "")
    local_http = (parsed.scheme == "http" and parsed.hostname in LOCAL_HOSTS
                  and getattr(settings, "WEBHOOKS_ALLOW_LOCAL_HTTP", settings.DEBUG))
    if not parsed.hostname or not (parsed.scheme == "https" or local_http):
        raise ValidationFailed(_("The endpoint must be an https:// URL."), field="url")
    return url


@transaction.atomic
def register(user, *, jurisdiction, url, events=(), secret=None):
    """Register an endpoint; returns (endpoint, secret). The secret is generated when not given."""
    require(user, "webhook.manage", Scope(jurisdiction_id=jurisdiction.pk))
    url = _check_url(url)
    secret = secret or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise ValidationFailed(_("The secret must have at least 16 characters."), field="secret")
    endpoint = WebhookEndpoint.objects.create(jurisdiction=jurisdiction, url=url, secret=secret,
                                              events=sorted(set(events or ())), created_by=user)
    audit.record(user, "webhook.registered", endpoint, after={"url": url, "events": endpoint.events},
                 jurisdiction=jurisdiction)
    return endpoint, secret


def _payload(event):
    return {"event": event.action, "id": event.pk, "at": event.at, "object": {"type": event.object_type,
                                                                             "id": event.object_id},
            "transfer": event.transfer_id, "data": event.after or {}}


def _jurisdictions_of(event):
    ids = {event.jurisdiction_id} if event.jurisdiction_id else set()
    if event.transfer_id:
        transfer = event.transfer
        ids |= {transfer.giver_jurisdiction_id, transfer.receiver_jurisdiction_id}
    return ancestors(ids) if ids else frozenset()


def on_audit_event(event):
    """Queue a delivery of the event for every active endpoint of a jurisdiction it concerns (or of an
    ancestor: a province hears of its cities); sent once the transaction commits."""
    if event.action.startswith("webhook."):
        return
    if not _LISTENING.rows():  # one small query when nobody listens
        return
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    jurisdictions = _jurisdictions_of(event)
    created = []
    for endpoint in endpoints:
        if endpoint.jurisdiction_id not in jurisdictions or (endpoint.events and event.action not in endpoint.events):
            continue
        delivery, new = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, event_key=f"audit:{event.pk}",
            defaults={"event": event.action, "payload": json.loads(json.dumps(_payload(event), cls=DjangoJSONEncoder))})
        if new:
            created.append(delivery.pk)
    if created:
        transaction.on_commit(lambda: _enqueue(created))


def _enqueue(pks):
    from lifecycle.tasks import deliver_webhook  # the tasks module imports this one

    for pk in pks:
        deliver_webhook.delay(pk)


def _post(endpoint, event, body: bytes, delivery_id):
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Gongwucang-Webhooks/1",
        "X-Gongwucang-Event": event, "X-Gongwucang-Delivery": str(delivery_id),
        "X-Gongwucang-Signature": signature(endpoint.secret, body)})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - checked scheme
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:300]


def _sendable(deliveries):
    """Deliveries to endpoints whose jurisdiction is under an emergency stop are paused: they stay pending and
    go out once the stop is lifted."""
    stopped = emergency.stopped_jurisdiction_ids()
    return deliveries.exclude(endpoint__jurisdiction_id__in=stopped) if stopped else deliveries


def deliver(delivery_id, now=None):
    """Attempt one delivery that is due; a 2xx marks it delivered, anything else schedules the next attempt
    (exponential backoff) or, after MAX_ATTEMPTS, marks it failed. Returns the delivery (None if not due)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _sendable(WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING,
                                                           next_attempt_at__lte=now)).update(
            next_attempt_at=now + timedelta(minutes=30))  # a lease: a concurrent run skips it
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    code, error = _post(delivery.endpoint, delivery.event, body, delivery.pk)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = code, error
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    else:
        delivery.next_attempt_at = now + BACKOFF * 2 ** (delivery.attempts - 1)
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                 "next_attempt_at"])
    return delivery


def retry_due(now=None):
    """Attempt every pending delivery whose next attempt is due (the periodic safety net: it also sends
    what an eager or lost task did not). Returns the number attempted."""
    now = now or timezone.now()
    due = _sendable(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now))
    return sum(1 for pk in list(due.values_list("pk", flat=True)[:500]) if deliver(pk, now) is not None)


def send_test(user, endpoint):
    """POST a signed `ping` to the endpoint now; returns (HTTP status or None, error)."""
    require(user, "webhook.manage", endpoint)
    body = json.dumps({"event": "ping", "endpoint": endpoint.pk, "at": timezone.now().isoformat()}).encode()
    return _post(endpoint, "ping", body, "test")
