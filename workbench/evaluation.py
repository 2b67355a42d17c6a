"""Workbench pages of the performance evaluation: the public summary (no login; aggregates only), the
league table with its trend, the facts exports and the PDF for users of the region, and the actions on
an evaluation (publish, object, decide). Every rule is the evaluation services'."""
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from evaluation import exports, report, selectors, services
from kernel.errors import DomainError
from regions.permissions import get_principal
from workbench.base import attempt, page

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", exports.to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exports.to_xlsx),
    "parquet": ("application/vnd.apache.parquet", exports.to_parquet),
}


class ObjectionForm(forms.Form):
    jurisdiction = forms.ChoiceField(label=gettext_lazy("Evaluated unit"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=services.REASON_MAX, widget=forms.Textarea)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [(j.code, f"{j.name_zh} ({j.code})") for j in units]


class DecisionForm(forms.Form):
    upheld = forms.BooleanField(label=gettext_lazy("Objection upheld"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=services.REASON_MAX, widget=forms.Textarea)
    corrections = forms.CharField(
        label=gettext_lazy("Corrected facts"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line: fact code = value, e.g. received_value = 16000"))

    def clean_corrections(self):
        fixed = {}
        for line in self.cleaned_data["corrections"].splitlines():
            if not line.strip():
                continue
            code, sep, value = line.partition("=")
            try:
                number = Decimal(value.strip()) if sep else None
            except InvalidOperation:
                number = None
            if number is None:
                raise forms.ValidationError(_("Write each correction as: fact code = number."))
            fixed[code.strip()] = str(number)
        return fixed


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
    return render(request, "web/evaluation_published.html", context)


@login_required
def league(request, pk=None, objection_form=None, decision_forms=None):
    evaluations = selectors.evaluations_for(request.user)
    evaluation = _visible(request.user, pk) if pk else evaluations.first()
    context = {"evaluation": evaluation, "evaluations": evaluations[:20]}
    if evaluation is not None:
        principal = get_principal(request.user)
        table = selectors.league_table(evaluation)
        own_units = [s.jurisdiction for s in table if s.jurisdiction_id in principal.bureau_jurisdictions]
        history = selectors.latest_versions(evaluations.filter(region_id=evaluation.region_id))
        pending = list(selectors.objections_for(request.user).filter(evaluation=evaluation))
        context.update(
            table=table, totals=selectors.totals(evaluation),
            indicators=list(evaluation.indicator_set.indicators.all()),
            chart=report.chart_rows(evaluation), trend=report.trend_rows(history), objections=pending,
            is_coordinator=evaluation.region_id in principal.coordinator_regions,
            objection_form=objection_form or (ObjectionForm(units=own_units) if own_units else None),
            decision_forms=decision_forms or {o.pk: DecisionForm(prefix=f"o{o.pk}") for o in pending
                                              if o.decision == "pending"})
    return page(request, "web/evaluation_league.html", context)


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


@login_required
@require_POST
def publish(request, pk):
    evaluation = _visible(request.user, pk)
    form = forms.Form(request.POST)
    done, _publication = attempt(form, services.publish, request.user, evaluation)
    if done:
        messages.success(request, _("The evaluation is published on the public page."))
    else:
        for error in form.non_field_errors():
            messages.error(request, error)
    return redirect("web:evaluation_league_of", pk=evaluation.pk)


@login_required
@require_POST
def file_objection(request, pk):
    evaluation = _visible(request.user, pk)
    principal = get_principal(request.user)
    units = [s.jurisdiction for s in selectors.league_table(evaluation)
             if s.jurisdiction_id in principal.bureau_jurisdictions]
    form = ObjectionForm(request.POST, units=units)
    if form.is_valid():
        jurisdiction = next(u for u in units if u.code == form.cleaned_data["jurisdiction"])
        done, _objection = attempt(form, services.file_objection, request.user, evaluation, jurisdiction,
                                   form.cleaned_data["reason"])
        if done:
            messages.success(request, _("Your objection is filed; the coordinator will decide it."))
            return redirect("web:evaluation_league_of", pk=evaluation.pk)
    return league(request, pk=evaluation.pk, objection_form=form)


@login_required
@require_POST
def decide_objection(request, pk):
    objection = selectors.objections_for(request.user).filter(pk=pk).first()
    if objection is None:
        raise Http404(_("No such objection."))
    form = DecisionForm(request.POST, prefix=f"o{objection.pk}")
    if form.is_valid():
        data = form.cleaned_data
        done, decided = attempt(form, services.decide_objection, request.user, objection, upheld=data["upheld"],
                                reason=data["reason"], corrections=data["corrections"])
        if done:
            messages.success(request, _("The objection is decided.") if not decided.correction_id else
                             _("The objection is upheld: version %(v)d of the evaluation is frozen.")
                             % {"v": decided.correction.version})
            return redirect("web:evaluation_league_of", pk=decided.correction_id or objection.evaluation_id)
    return league(request, pk=objection.evaluation_id, decision_forms={objection.pk: form})
