"""GraphQL door of the inbox: `notifications` (the caller's own), `unreadNotificationCount`,
`markNotificationsRead`."""
import graphene

from api.connection import CountableConnection, PagedConnectionField
from api.errors import DomainMutation, decode_id
from api.scalars import domain_enum
from api.scoped import ScopedObjectType
from notifications import selectors, services
from notifications.models import Notification

NotificationKind = domain_enum("NotificationKind", Notification.Kind, "通知类别 Kind of a notification.")


class NotificationType(ScopedObjectType):
    class Meta:
        model = Notification
        name = "Notification"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "kind", "params", "url", "created_at", "read_at")
        filter_fields = []

    kind = graphene.Field(NotificationKind, required=True)
    message = graphene.String(required=True, description="The text, in the caller's language.")
    unread = graphene.Boolean(required=True)

    def resolve_message(root, info):
        return root.message

    def resolve_unread(root, info):
        return root.read_at is None


class Query(graphene.ObjectType):
    notifications = PagedConnectionField(NotificationType, unread=graphene.Boolean(),
                                         description="The caller's inbox, newest first.")
    unread_notification_count = graphene.Int(required=True)

    def resolve_notifications(root, info, unread=None, **kwargs):
        return selectors.inbox(info.context.user, unread=unread)

    def resolve_unread_notification_count(root, info):
        return selectors.unread_count(info.context.user)


class MarkNotificationsRead(DomainMutation):
    """Mark notifications of the caller read: `ids`, or `all: true` for every unread one."""

    class Input:
        ids = graphene.List(graphene.NonNull(graphene.ID))
        all = graphene.Boolean(default_value=False)

    marked = graphene.Int(description="How many were marked read (null on error).")
    unread_count = graphene.Int()

    @classmethod
    def perform(cls, info, ids=None, all=False):  # noqa: A002 - the input field's name
        user = info.context.user
        pks = [decode_id(i, "Notification", "ids") for i in ids or []]
        marked = services.mark_read(user, ids=pks, everything=all)
        return cls(marked=marked, unread_count=selectors.unread_count(user))


class Mutation(graphene.ObjectType):
    mark_notifications_read = MarkNotificationsRead.Field()
