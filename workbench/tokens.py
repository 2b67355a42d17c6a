"""API tokens of a bureau's member-city systems: list, create (the key is shown once, on the page that
answers the creation, never stored or shown again) and revoke, through `regions.services.tokens`."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import DomainError
from regions.permissions import get_principal
from regions.selectors import api_tokens_for, jurisdictions_for
from regions.services import tokens
from workbench.base import attempt, page
from workbench.templatetags.workbench import local_name

PAGE_SIZE = 20


class TokenForm(forms.Form):
    jurisdiction = forms.TypedChoiceField(label=gettext_lazy("Jurisdiction"), coerce=int)
    name = forms.CharField(label=gettext_lazy("Name (which system uses it)"), max_length=100)
    can_write = forms.BooleanField(label=gettext_lazy("Write scope (may request, approve, hand over)"),
                                   required=False)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=tokens.MAX_DAYS,
                              initial=90)

    def __init__(self, *args, jurisdictions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [(j.pk, local_name(j)) for j in jurisdictions]


def _jurisdictions(user):
    principal = get_principal(user)
    return list(jurisdictions_for(user).filter(pk__in=principal.bureau_jurisdictions).order_by("code"))


def _page(request, form, created=None, status=200):
    tokens_qs = api_tokens_for(request.user).select_related("created_by").defer(
        "jurisdiction__boundary", "jurisdiction__boundary_simplified")
    rows = Paginator(tokens_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    response = page(request, "web/tokens.html", {"form": form, "rows": rows, "created": created,
                                                 "now": timezone.now()}, status=status)
    response["Cache-Control"] = "private, no-store"  # the page that shows a new key must not be cached
    return response


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    jurisdictions = _jurisdictions(request.user)
    if not jurisdictions:
        raise Http404
    form = TokenForm(request.POST or None, jurisdictions=jurisdictions)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        jurisdiction = next(j for j in jurisdictions if j.pk == data.pop("jurisdiction"))
        ok, created = attempt(form, tokens.create_token, request.user, jurisdiction, **data)
        if ok:
            token, key = created
            return _page(request, TokenForm(jurisdictions=jurisdictions), created={"token": token, "key": key})
    return _page(request, form, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request, pk):
    token = api_tokens_for(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404
    try:
        with transaction.atomic():
            tokens.revoke_token(request.user, token)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("web:tokens")
