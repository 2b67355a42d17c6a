"""Workbench pages of the lifecycle: disposals. Each action is one service call (`attempt`)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exchange.models import AssetClass, Condition
from lifecycle import forms, selectors
from lifecycle.documents import render_purchase_check
from lifecycle.models import Disposal, Want
from lifecycle.services import disposal as disposals
from lifecycle.services import loans as loan_service
from lifecycle.services import purchases, wants
from regions.permissions import allows, get_principal
from workbench.base import attempt, page
from workbench.views import my_agencies

ACTIONS = {
    "propose": (forms.ProposeDisposalForm, lambda user, d, data: disposals.propose(user, d, **data)),
    "approve": (forms.DecideDisposalForm, lambda user, d, data: disposals.decide(user, d, approve=True, **data)),
    "refuse": (forms.DecideDisposalForm, lambda user, d, data: disposals.decide(user, d, approve=False, **data)),
    "complete": (forms.CompleteDisposalForm, lambda user, d, data: disposals.complete(user, d, **data)),
}


def _page(request, failed=None, status=200):
    state = request.GET.get("status") or ""
    qs = selectors.disposals_for(request.user, status=state if state in Disposal.Status.values else None)
    rows = Paginator(qs, 20).get_page(request.GET.get("page"))
    principal = get_principal(request.user)
    for d in rows:
        scope = d.permission_scope()
        d.can = {a: allows(principal, f"disposal.{a}", scope) for a in ("propose", "decide", "complete")}
    return page(request, "lifecycle/disposals.html", {
        "rows": rows, "status": state, "statuses": Disposal.Status.choices, "failed": failed or {},
        "propose_form": forms.ProposeDisposalForm(), "decide_form": forms.DecideDisposalForm(),
        "complete_form": forms.CompleteDisposalForm(), "query": f"status={state}" if state else ""}, status=status)


@login_required
def disposal_list(request):
    return _page(request)


@login_required
@require_POST
def disposal_action(request, pk, action):
    found = selectors.disposals_for(request.user).filter(pk=pk).first()
    if found is None or action not in ACTIONS:
        raise Http404
    form_class, call = ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        ok, _result = attempt(form, call, request.user, found, form.cleaned_data)
        if ok:
            messages.success(request, _("Saved."))
            return redirect("lifecycle:disposals")
    return _page(request, failed={"pk": found.pk, "action": action, "form": form}, status=400)


# --- wants and "matches my wants" ----------------------------------------------------------------------
def _want_form(request, data=None):
    return forms.WantForm(data, agencies=my_agencies(request.user), classes=AssetClass.objects.all())


@login_required
def want_list(request):
    form = _want_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["agency"] = next(a for a in my_agencies(request.user) if str(a.pk) == data["agency"])
        data["asset_class"] = AssetClass.objects.get(code=data["asset_class"])
        ok, _want = attempt(form, wants.record_want, request.user, **data)
        if ok:
            messages.success(request, _("Want recorded."))
            return redirect("lifecycle:wants")
    mine = selectors.wants_for(request.user, status=Want.Status.ACTIVE)
    return page(request, "lifecycle/wants.html", {
        "form": form, "wants": Paginator(mine, 50).get_page(1), "matches": wants.matches_for(request.user)},
        status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def want_withdraw(request, pk):
    found = selectors.wants_for(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    form = forms.DecideDisposalForm(request.POST)
    form.is_valid()
    ok, _want = attempt(form, wants.withdraw_want, request.user, found)
    if ok:
        messages.success(request, _("Withdrawn."))
    else:
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
    return redirect("lifecycle:wants")


# --- purchase checks (先调剂后购置) ------------------------------------------------------------------------
@login_required
def purchase_list(request):
    agencies = my_agencies(request.user)
    form = forms.PurchaseForm(request.POST or None, agencies=agencies, classes=AssetClass.objects.all())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["agency"] = next(a for a in agencies if str(a.pk) == data["agency"])
        data["asset_class"] = AssetClass.objects.get(code=data["asset_class"])
        ok, purchase = attempt(form, purchases.file_purchase, request.user, **data)
        if ok:
            messages.success(request, _("Purchase check %(code)s filed.") % {"code": purchase.code})
            return redirect("lifecycle:purchases")
    rows = Paginator(selectors.purchases_for(request.user).prefetch_related("replaces"), 20).get_page(
        request.GET.get("page"))
    return page(request, "lifecycle/purchases.html", {"form": form, "rows": rows},
                status=400 if request.method == "POST" else 200)


@login_required
def purchase_pdf(request, pk):
    found = selectors.purchases_for(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    response = HttpResponse(render_purchase_check(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="purchase-check-{found.code}.pdf"'
    return response


# --- loans (借管还) --------------------------------------------------------------------------------------
LOAN_ACTIONS = {
    "approve": lambda user, loan, post: loan_service.decide_loan(user, loan, approve=True),
    "refuse": lambda user, loan, post: loan_service.decide_loan(user, loan, approve=False,
                                                                reason=post.get("reason", "")),
    "handout": lambda user, loan, post: loan_service.confirm_handout(user, loan),
    "return": lambda user, loan, post: loan_service.confirm_return(user, loan, condition=post.get("condition", ""),
                                                                   note=post.get("note", "")),
}


@login_required
def loan_list(request):
    rows = Paginator(selectors.loans_for(request.user), 30).get_page(request.GET.get("page"))
    offers = selectors.loan_offers_for(request.user).filter(status="open")[:50]
    return page(request, "lifecycle/loans.html", {"rows": rows, "offers": offers,
                                                  "conditions": Condition.choices})


@login_required
@require_POST
def loan_action(request, pk, action):
    found = selectors.loans_for(request.user).filter(pk=pk).first()
    if found is None or action not in LOAN_ACTIONS:
        raise Http404
    form = forms.DecideDisposalForm(request.POST)
    form.is_valid()
    ok, _loan = attempt(form, LOAN_ACTIONS[action], request.user, found, request.POST)
    if ok:
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or _("Not saved."))
    return redirect("lifecycle:loans")
