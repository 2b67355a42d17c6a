"""Reads of the inbox: a user sees only their own notifications."""
from notifications.models import Notification
from regions.permissions import restrict


def inbox(user, *, unread=None):
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = restrict(Notification.objects.all(), user)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs


def unread_count(user):
    return inbox(user, unread=True).count()
