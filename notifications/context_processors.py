from notifications.selectors import unread_count


def inbox(request):
    """The unread badge of the workbench header (one COUNT per page, only when signed in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
