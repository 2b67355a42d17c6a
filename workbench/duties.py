"""Workbench doors for accountability: the queue of open stages (/duties/), taking a stage on (首接负责) and
assigning it; every rule is the duties service's (regions.services.duties)."""
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kernel.errors import DomainError
from regions import selectors
from regions.services import duties
from workbench.base import page

PAGE_SIZE = 25


class AssignForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Responsible person (username)"), max_length=150)
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=1000)


def annotate(user, rows):
    """Mark on each duty whether the user may take it on or assign it (for the buttons)."""
    for duty in rows:
        duty.can_claim = (duty.closed_at is None and duty.responsible_id is None
                          and duties.may_act(user, duty, app_rules=False))  # the service applies every rule
        duty.can_assign = duty.closed_at is None and duties.may_assign(user, duty)
    return rows


def subject_url(duty):
    """Where the stage is handled in the workbench."""
    model = duty.subject_type.model
    if model == "approvalstep":
        return f"/transfers/{duty.subject.transfer_id}/"
    if model == "transfer":
        return f"/transfers/{duty.subject_id}/"
    if model == "transferrequest":
        transfer = getattr(duty.subject, "transfer", None)
        return f"/transfers/{transfer.pk}/" if transfer is not None else f"/listings/{duty.subject.listing_id}/"
    if model == "paymentinstruction":
        return "/settlement/"
    return "/roles/"


@login_required
def queue(request):
    rows = Paginator(selectors.duty_queue(request.user).prefetch_related("subject"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    annotate(request.user, rows)
    for duty in rows:
        duty.url = subject_url(duty)
    return page(request, "web/duties.html", {"rows": rows, "assign_form": AssignForm()})


def _back(request):
    target = request.POST.get("next") or "/duties/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/duties/"


def _duty(request, pk):
    duty = selectors.duty_queue(request.user).filter(pk=pk).first()
    if duty is None:
        raise Http404
    return duty


@login_required
@require_POST
def claim(request, pk):
    try:
        duties.claim(request.user, _duty(request, pk))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You are now responsible for this stage."))
    return redirect(_back(request))


@login_required
@require_POST
def assign(request, pk):
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Name the responsible person."))
        return redirect(_back(request))
    assignee = get_user_model().objects.filter(username=form.cleaned_data["username"], is_active=True).first()
    try:
        duties.assign(request.user, _duty(request, pk), assignee, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s is now responsible for this stage.") % {"name": assignee.username})
    return redirect(_back(request))
