"""A jurisdiction's account statement for a period (opening balance, debits, credits, closing, the entries)
from `ledger.selectors.statement`, with the settlement statement PDF of the same account and dates one
click away (requested on the reports page, downloaded from there)."""
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger import selectors as ledger_selectors
from ledger.models import Account
from reports import selectors as report_selectors
from workbench.base import page
from workbench.templatetags.workbench import local_name

PAGE_SIZE = 50


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatementForm(forms.Form):
    account = forms.TypedChoiceField(label=gettext_lazy("Account"), coerce=int, required=False, empty_value=None)
    start = forms.DateField(label=gettext_lazy("Period from"), widget=_date_input())
    end = forms.DateField(label=gettext_lazy("Period to"), widget=_date_input())

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(a.pk, f"{local_name(a.jurisdiction)} · {a.code}") for a in accounts]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The period ends before it starts."))
        return data


def _default_dates(user, account):
    """The latest settlement period of the account's region that has started, else this month to date."""
    today = timezone.localdate()
    period = (ledger_selectors.periods_for(user).filter(region_id=account.region_id, start__lte=today)
              .order_by("-start").first())
    if period is not None:
        return period.start, min(period.end, today) if period.status == "open" else period.end
    return today.replace(day=1), today


@login_required
def statement(request):
    accounts = list(ledger_selectors.restricted_accounts(request.user).filter(kind=Account.Kind.COMPENSATION)
                    .defer("jurisdiction__boundary", "jurisdiction__boundary_simplified").order_by("code"))
    if not accounts:
        raise Http404
    account = accounts[0]
    start, end = _default_dates(request.user, account)
    form = StatementForm(request.GET or None, accounts=accounts,
                         initial={"account": account.pk, "start": start, "end": end})
    if form.is_valid():
        chosen = form.cleaned_data["account"]
        account = next((a for a in accounts if a.pk == chosen), account)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    account, figures = ledger_selectors.statement(request.user, account.pk, start, end)
    legs = ledger_selectors.legs_for(request.user).filter(account=account, transaction__date__range=(start, end))
    rows = Paginator(legs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    pdfs = report_selectors.jobs_for(request.user).filter(
        kind="settlement_statement", jurisdiction_id=account.jurisdiction_id, status="succeeded")[:5]
    return page(request, "web/statement.html", {
        "form": form, "account": account, "figures": figures, "start": start, "end": end, "rows": rows,
        "query": query.urlencode(), "pdfs": pdfs}, status=400 if form.errors else 200)
