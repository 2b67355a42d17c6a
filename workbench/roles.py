"""Workbench page for delegation: grant a role within your scope, revoke one, ask for one, decide the
requests waiting for you, with reasons; every rule is the roles and access services'
(regions.services.roles, regions.services.access)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kernel.errors import DomainError
from regions import selectors
from regions.models import Agency, Jurisdiction, Membership, Region, Role
from regions.services import access, roles
from workbench.base import add_domain_error, attempt, page


class GrantForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    scope = forms.ChoiceField(label=gettext_lazy("Scope"))
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=1000)
    ends_on = forms.DateField(label=gettext_lazy("Ends on (inclusive)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = selectors.delegation_scopes(user)
        self.fields["role"].choices = roles.grantable_roles(user)
        self.fields["scope"].choices = (
            [(f"region:{r.pk}", f"{_('Region')} {r.name_zh}") for r in scopes["regions"]]
            + [(f"jurisdiction:{j.pk}", f"{j.name_zh} ({j.code})") for j in scopes["jurisdictions"]]
            + [(f"agency:{a.pk}", f"{a.jurisdiction.name_zh} · {a.name_zh}") for a in scopes["agencies"]])


class AskForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    scope = forms.ChoiceField(label=gettext_lazy("Scope"))
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=1000)
    ends_on = forms.DateField(label=gettext_lazy("Ends on (inclusive)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(left_on__isnull=True).values("jurisdiction_id")
        self.fields["scope"].choices = (
            [(f"region:{r.pk}", f"{_('Region')} {r.name_zh}") for r in Region.objects.all()]
            + [(f"jurisdiction:{j.pk}", f"{j.name_zh} ({j.code})") for j in Jurisdiction.objects.filter(
                pk__in=members).defer("boundary", "boundary_simplified").order_by("code")]
            + [(f"agency:{a.pk}", f"{a.jurisdiction.name_zh} · {a.name_zh}") for a in Agency.objects.filter(
                jurisdiction_id__in=members).select_related("jurisdiction").order_by("jurisdiction__code", "code")])


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=1000)


def parse_scope(value):
    """"jurisdiction:12" -> {"jurisdiction": <Jurisdiction 12>} (only ids offered on the form resolve)."""
    kind, _sep, pk = (value or "").partition(":")
    model = {"region": Region, "jurisdiction": Jurisdiction, "agency": Agency}.get(kind)
    obj = model.objects.filter(pk=pk).first() if model and pk.isdigit() else None
    return {kind: obj} if obj else {}


def _render(request, grant_form=None, ask_form=None, failed=None, status=200):
    user = request.user
    return page(request, "web/roles.html", {
        "grant_form": grant_form or GrantForm(user=user), "can_grant": bool(roles.grantable_roles(user)),
        "ask_form": ask_form or AskForm(), "to_decide": selectors.access_requests_to_decide(user)[:100],
        "mine": selectors.my_access_requests(user)[:50],
        "bindings": selectors.role_bindings_for(user)[:200], "reason_form": ReasonForm(), "failed": failed or {}},
        status=status)


@login_required
def role_page(request):
    return _render(request)


@login_required
@require_POST
def grant(request):
    form = GrantForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grantee = roles.find_user(data["username"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            ok, _binding = attempt(form, roles.grant_role, request.user, grantee=grantee, role=data["role"],
                                   reason=data["reason"], ends_on=data["ends_on"], **parse_scope(data["scope"]),
                                   aliases={"ends_on": "ends_on", "region_code": "scope",
                                            "jurisdiction_code": "scope", "agency_code": "scope"})
            if ok:
                messages.success(request, _("Role granted."))
                return redirect("web:roles")
    return _render(request, grant_form=form, status=400)


@login_required
@require_POST
def revoke(request, pk):
    binding = selectors.role_bindings_for(request.user).filter(pk=pk).first()
    if binding is None:
        raise Http404
    form = ReasonForm(request.POST)
    if form.is_valid():
        ok, _binding = attempt(form, roles.revoke_role, request.user, binding, reason=form.cleaned_data["reason"])
        if ok:
            messages.success(request, _("Role revoked."))
            return redirect("web:roles")
    return _render(request, failed={"binding": binding.pk, "form": form}, status=400)


@login_required
@require_POST
def ask(request):
    form = AskForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ok, _request = attempt(form, access.request_access, request.user, role=data["role"], reason=data["reason"],
                               ends_on=data["ends_on"], **parse_scope(data["scope"]),
                               aliases={"region_code": "scope", "jurisdiction_code": "scope",
                                        "agency_code": "scope"})
        if ok:
            messages.success(request, _("Request sent; the granters were notified."))
            return redirect("web:roles")
    return _render(request, ask_form=form, status=400)


@login_required
@require_POST
def decide_access(request, pk):
    found = selectors.access_requests_to_decide(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    form = ReasonForm(request.POST)
    grant_it = request.POST.get("decision") == "grant"
    if form.is_valid():
        ok, _request = attempt(form, access.decide_access, request.user, found, grant=grant_it,
                               reason=form.cleaned_data["reason"])
        if ok:
            messages.success(request, _("Role granted.") if grant_it else _("Refused."))
            return redirect("web:roles")
    return _render(request, failed={"access": found.pk, "form": form}, status=400)
