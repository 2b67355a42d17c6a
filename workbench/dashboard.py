"""The coordinator's (and auditor's) regional dashboard: KPIs per jurisdiction, the monthly trend and a
map, drawn by the vendored ECharts from the figures of `reports.dashboard` (the scorecard's definitions),
with the scorecard PDF one click away."""
import json
from datetime import date

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exchange import selectors
from exchange.models import Transfer
from regions.permissions import get_principal
from regions.selectors import regions_for
from reports import dashboard as figures
from reports import selectors as report_selectors
from workbench.base import english, page
from workbench.templatetags.workbench import local_name

PAGE_SIZE = 20


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DashboardFilter(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    period_from = forms.DateField(label=gettext_lazy("Period from"), widget=_date_input())
    period_to = forms.DateField(label=gettext_lazy("Period to"), widget=_date_input())

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, local_name(r)) for r in regions]

    def clean(self):
        data = super().clean()
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", _("The period ends before it starts."))
        return data


def default_period(today):
    """The last twelve months: the first day of the month eleven months back, to today."""
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1), today


def _choice(request):
    """(form, region, period_from, period_to) from the query string, the defaults where it is invalid."""
    principal = get_principal(request.user)
    regions = list(regions_for(request.user).filter(
        pk__in=principal.coordinator_regions | principal.auditor_regions).order_by("code"))
    if not regions:
        raise Http404
    start, end = default_period(timezone.localdate())
    form = DashboardFilter(request.GET or None, regions=regions,
                           initial={"region": regions[0].code, "period_from": start, "period_to": end})
    region = regions[0]
    if form.is_valid():
        region = next(r for r in regions if r.code == form.cleaned_data["region"])
        start, end = form.cleaned_data["period_from"], form.cleaned_data["period_to"]
    return form, region, start, end


def _chart_data(board):
    """What dashboard.js draws: the monthly trend and one row per jurisdiction (names in the page's language)."""
    def num(value):
        return None if value is None else float(value)

    return {
        "months": [{"month": m.month, "transfers": m.transfers, "value": num(m.value),
                    "turnaround": num(m.avg_turnaround_days)} for m in board.allocation.months],
        "lines": [{"code": line.code, "name": line.jurisdiction_en if english() and line.jurisdiction_en
                   else line.jurisdiction, "taken": line.items_taken, "given": line.items_given,
                   "saved": num(line.value_saved), "compensation": num(line.compensation_paid),
                   "idle": num(line.idle_value_rate), "red": num(line.red_share)} for line in board.scorecard.lines],
        "labels": {"transfers": _("Transfers allocated"), "value": _("Value (CNY)"),
                   "turnaround": _("Average turnaround (days)"), "saved": _("Savings (CNY)"),
                   "taken": _("Transfers received"), "map": _("Transfers received and given"),
                   "nodata": _("No data")},
    }


@login_required
def dashboard(request):
    form, region, start, end = _choice(request)
    board = figures.dashboard(request.user, region, start, end)
    red = selectors.overdue_steps(request.user).filter(transfer__region=region)
    scorecards = report_selectors.jobs_for(request.user).filter(kind="scorecard", region=region,
                                                                status="succeeded")[:5]
    return page(request, "web/dashboard.html", {
        "form": form, "board": board, "region": region, "period_from": start, "period_to": end,
        "chart": _chart_data(board), "totals": board.totals, "flows": board.flows, "scorecards": scorecards,
        "red": Paginator(red, PAGE_SIZE).get_page(request.GET.get("page")),
        "counts": [(label, board.status_counts.get(value, 0)) for value, label in Transfer.Status.choices],
        "pending_requests": board.pending_requests})


@login_required
def outlines(request):
    """GeoJSON of the region's settling jurisdictions for the dashboard map (`properties.name` = code)."""
    _form, region, _start, end = _choice(request)
    features = [{"type": "Feature", "properties": {"name": j.code, "label": local_name(j)},
                 "geometry": json.loads(j.boundary_simplified.geojson)}
                for j in figures.outlines(request.user, region, end)]
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    response["Cache-Control"] = "private, max-age=3600"
    return response
