"""Reads of the inbox: a user sees only their own notifications."""
from notifications.models import Notification


def inbox(user, *, unread=None):
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs


def unread_count(user):
    return inbox(user, unread=True).count()
