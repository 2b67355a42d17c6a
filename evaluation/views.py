"""Pages of the evaluation: the public summary (no login; aggregates only), the league table with its
trend for signed-in users of the region, and the facts exports. Thin: one selector, one render."""
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kernel.errors import DomainError

from . import exports, report, selectors

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", exports.to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exports.to_xlsx),
    "parquet": ("application/vnd.apache.parquet", exports.to_parquet),
}


def _visible(user, pk):
    try:
        return selectors.evaluation_for(user, pk)
    except DomainError as exc:
        raise Http404(_("No such evaluation.")) from exc


def published(request):
    evaluation = selectors.published_summary(request.GET.get("region"))
    context = {"evaluation": evaluation}
    if evaluation is not None:
        context.update(table=selectors.league_table(evaluation), totals=selectors.totals(evaluation),
                       indicators=list(evaluation.indicator_set.indicators.all()))
    return render(request, "evaluation/published.html", context)


@login_required
def league(request, pk=None):
    evaluations = selectors.evaluations_for(request.user)
    evaluation = _visible(request.user, pk) if pk else evaluations.first()
    context = {"evaluation": evaluation, "evaluations": evaluations[:20]}
    if evaluation is not None:
        history = selectors.latest_versions(evaluations.filter(region_id=evaluation.region_id))
        context.update(table=selectors.league_table(evaluation), totals=selectors.totals(evaluation),
                       indicators=list(evaluation.indicator_set.indicators.all()),
                       chart=report.chart_rows(evaluation), trend=report.trend_rows(history))
    return render(request, "evaluation/league.html", context)


@login_required
def facts_download(request, pk, fmt):
    if fmt not in EXPORTS:
        raise Http404(_("Unknown format."))
    evaluation = _visible(request.user, pk)
    content_type, build = EXPORTS[fmt]
    response = HttpResponse(build(evaluation), content_type=content_type)
    name = f"evaluation-{evaluation.region.code}-{evaluation.period_from:%Y%m%d}-v{evaluation.version}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def pdf(request, pk):
    evaluation = _visible(request.user, pk)
    history = selectors.latest_versions(selectors.evaluations_for(request.user).filter(region_id=evaluation.region_id))
    response = HttpResponse(report.render_pdf(report.build(evaluation, history)), content_type="application/pdf")
    response["Content-Disposition"] = (f'inline; filename="evaluation-{evaluation.region.code}-'
                                       f'{evaluation.period_from:%Y%m%d}-v{evaluation.version}.pdf"')
    return response
