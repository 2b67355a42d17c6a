from django.contrib import admin

from notifications.models import Notification
from regions.admin_base import ScopedModelAdmin


@admin.register(Notification)
class NotificationAdmin(ScopedModelAdmin):  # one's own inbox (Notification.extra_visibility)
    list_display = ("created_at", "recipient", "kind", "key", "read_at", "emailed_at")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in Notification._meta.fields]
