"""Writes on the inbox: `notify` (called by the services that own the events) and `mark_read`."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from kernel.errors import NotAuthenticated, PermissionDenied
from notifications import messages
from notifications.models import Notification


def notify(recipients, kind, *, key, params=None, url="", email=True):
    """Put one notification in the inbox of each recipient (users or user ids) that has none with this
    `key` yet, and (with `email`) email those with an address once the transaction commits. Returns the
    new rows.
    Idempotent: the same key for the same recipient never notifies twice."""
    ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    if not ids:
        return []
    seen = set(Notification.objects.filter(recipient_id__in=ids, key=key).values_list("recipient_id", flat=True))
    created = []
    for user_id in ids:
        if user_id in seen:
            continue
        try:
            with transaction.atomic():
                created.append(Notification.objects.create(recipient_id=user_id, kind=kind, key=key,
                                                           params=params or {}, url=url))
        except IntegrityError:  # a concurrent run created it first
            continue
    if created and email:
        pks = [n.pk for n in created]
        transaction.on_commit(lambda: send_emails(pks))
    return created


def send_emails(pks):
    """Email each of these notifications whose recipient has an address, once (claimed by UPDATE)."""
    users = get_user_model().objects.filter(notifications__pk__in=pks).exclude(email="").values_list("pk", "email")
    emails = dict(users)
    for note in Notification.objects.filter(pk__in=pks, emailed_at__isnull=True, recipient_id__in=emails):
        if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
            continue
        body = messages.render(note.kind, note.params)
        if note.url:
            body += "\n\n" + getattr(settings, "SITE_URL", "").rstrip("/") + note.url
        send_mail(messages.subject(note.kind, note.params), body, settings.DEFAULT_FROM_EMAIL,
                  [emails[note.recipient_id]], fail_silently=True)


@transaction.atomic
def mark_read(user, *, ids=None, everything=False):
    """Mark the caller's notifications read: the given ids, or all unread ones. Ids that are not the
    caller's are refused (nothing changes), whether they exist or not. Returns how many were marked."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if getattr(user, "api_token", None) is not None:  # the inbox is a person's, never read through a token
        raise PermissionDenied(field="ids")
    mine = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if not everything:
        ids = {int(i) for i in ids or []}
        owned = set(Notification.objects.filter(recipient=user, pk__in=ids).values_list("pk", flat=True))
        if ids - owned:
            raise PermissionDenied(field="ids")
        mine = mine.filter(pk__in=ids)
    return mine.update(read_at=timezone.now())
