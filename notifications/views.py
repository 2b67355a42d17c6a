"""Workbench page of the inbox: list (newest first, paged) and mark read."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from notifications import selectors, services
from workbench.base import page


@login_required
def inbox(request):
    unread = {"unread": True, "read": False}.get(request.GET.get("show"))
    notes = Paginator(selectors.inbox(request.user, unread=unread), 30).get_page(request.GET.get("page"))
    return page(request, "notifications/inbox.html", {"rows": notes, "show": request.GET.get("show", ""),
                                                          "query": f"show={request.GET.get('show', '')}"})


@login_required
@require_POST
def mark_read(request):
    ids = [i for i in request.POST.getlist("id") if i.isdigit()]
    services.mark_read(request.user, ids=ids, everything=not ids)
    return redirect("notifications:inbox")
