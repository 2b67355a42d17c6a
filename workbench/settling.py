"""The region's settling level (which level of jurisdiction settles compensation, 区域利益补偿机制): its
history for coordinators and auditors, and for the coordinator a form to set the level from a future date
(`regions.services.settling`, audited; postings already made keep their accounts)."""
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from regions.models import Jurisdiction
from regions.permissions import allows, get_principal
from regions.scope import Scope
from regions.selectors import regions_for, settling_levels_for
from regions.services import settling
from workbench.base import attempt, page
from workbench.templatetags.workbench import local_name


class SettlingLevelForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    level = forms.ChoiceField(label=gettext_lazy("Settling level"), choices=Jurisdiction.Level.choices)
    effective_from = forms.DateField(label=gettext_lazy("Effective from"),
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, local_name(r)) for r in regions]


@login_required
@require_http_methods(["GET", "POST"])
def settling_level(request):
    principal = get_principal(request.user)
    regions = list(regions_for(request.user).filter(
        pk__in=principal.coordinator_regions | principal.auditor_regions).order_by("code"))
    if not regions:
        raise Http404
    editable = [r for r in regions if allows(principal, "settling.change", Scope(region_id=r.pk))]
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = SettlingLevelForm(request.POST or None, regions=editable,
                             initial={"level": Jurisdiction.Level.CITY, "effective_from": tomorrow})
    if request.method == "POST":
        if not editable:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            region = next(r for r in editable if r.code == data["region"])
            ok, row = attempt(form, settling.set_settling_level, request.user, region, level=data["level"],
                              effective_from=data["effective_from"])
            if ok:
                messages.success(request, _("From %(date)s, %(level)s settle compensation in %(region)s.") % {
                    "date": row.effective_from.isoformat(), "level": row.get_level_display(),
                    "region": local_name(region)})
                return redirect("web:settling_level")
    today = timezone.localdate()
    histories = []
    for region in regions:
        rows = list(settling_levels_for(request.user, region))
        current = next((row for row in rows if row.effective_from <= today), None)
        histories.append({"region": region, "rows": rows, "current": current})
    return page(request, "web/settling_level.html", {"form": form if editable else None, "histories": histories,
                                                     "today": today}, status=400 if form.errors else 200)
