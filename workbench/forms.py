"""Workbench forms: they only parse what the user typed; every rule is checked by the services. Bounds on
values (lengths, digits, ranges) are the model fields' own (kernel.bounds), checked here too so that a form
reports every bad field at once and keeps what was typed."""
from django import forms
from django.utils.translation import gettext_lazy as _

from exchange.models import Asset, Condition, Listing, TransferRequest
from exchange.services.common import check_needed_by
from kernel import bounds
from kernel.errors import DomainError
from workbench.templatetags.workbench import local_name


class CatalogueFilter(forms.Form):
    text = forms.CharField(label=_("Keywords"), required=False, max_length=100)
    window = forms.ChoiceField(label=_("Window"), required=False,
                               choices=[("", _("all"))] + list(Listing.Window.choices))
    from_agency = forms.TypedChoiceField(label=_("Distance from"), required=False, coerce=int,
                                         empty_value=None)
    within_km = forms.FloatField(label=_("Within (km)"), required=False, min_value=1, max_value=5000)
    asset_class = forms.TypedChoiceField(label=_("Asset class"), required=False, coerce=int, empty_value=None)
    order = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("", _("nearest first")), ("newest", _("newest first")), ("oldest", _("oldest first"))])

    def __init__(self, *args, agencies=(), classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_agency"].choices = [("", "—")] + [(a.pk, local_name(a)) for a in agencies]
        self.fields["asset_class"].choices = [("", _("all"))] + [(c.pk, f"{c.code} {local_name(c)}")
                                                                 for c in classes]


class BoundedForm(forms.Form):
    """`bounded` maps form fields to the model whose field of the same name declares their bounds."""

    bounded = {}

    def clean(self):
        data = super().clean()
        for name, model in self.bounded.items():
            if data.get(name) not in (None, ""):
                try:
                    data[name] = bounds.check(model, name, data[name])
                except DomainError as exc:
                    self.add_error(name, exc.message)
        return data


class RequestForm(BoundedForm):
    bounded = dict.fromkeys(("quantity", "justification", "exception_justification"), TransferRequest)

    agency = forms.TypedChoiceField(label=_("Requesting agency"), coerce=int)
    quantity = forms.IntegerField(label=_("Quantity"), initial=1)
    justification = forms.CharField(label=_("Justification"), widget=forms.Textarea(attrs={"rows": 3}),
                                    required=False)
    needed_by = forms.DateField(label=_("Needed by"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    exception_requested = forms.BooleanField(label=_("Ask for an exception"), required=False)
    exception_justification = forms.CharField(label=_("Exception justification"), required=False,
                                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, local_name(a)) for a in agencies]

    def clean_needed_by(self):
        """The service's rule on the date, checked with the form's other fields (one pass)."""
        value = self.cleaned_data.get("needed_by")
        try:
            return value and check_needed_by(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)


class HandoverForm(forms.Form):
    received_quantity = forms.IntegerField(label=_("Quantity received"), min_value=0)
    received_condition = forms.ChoiceField(label=_("Condition received"), choices=Condition.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EndOccupancyForm(forms.Form):
    last_day = forms.DateField(label=_("Last day of use"), widget=forms.DateInput(attrs={"type": "date"}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), required=False, max_length=1000)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (the pattern of Django's file upload documentation)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class AssetForm(BoundedForm):
    """Register an asset and list it at once (two services, one transaction)."""

    bounded = dict.fromkeys(("description", "quantity", "unit", "original_value", "acquired_on"), Asset)

    agency = forms.TypedChoiceField(label=_("Agency"), coerce=int)
    asset_class = forms.TypedChoiceField(label=_("Asset class"), coerce=int)
    description = forms.CharField(label=_("Description"), required=False)
    quantity = forms.IntegerField(label=_("Quantity"), initial=1)
    unit = forms.CharField(label=_("Unit"), initial="台")
    original_value = forms.DecimalField(label=_("Original value per unit (CNY)"))
    acquired_on = forms.DateField(label=_("Acquired on"), widget=forms.DateInput(attrs={"type": "date"}))
    condition = forms.ChoiceField(label=_("Condition"), choices=Condition.choices, initial=Condition.GOOD)
    photos = MultipleFileField(label=_("Photos (JPEG, PNG or WebP, at most 5 MB each)"), required=False)

    def __init__(self, *args, agencies=(), classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, local_name(a)) for a in agencies]
        self.fields["asset_class"].choices = [(c.pk, f"{c.code} {local_name(c)}") for c in classes]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"))
    region = forms.ChoiceField(label=_("Region"))
    jurisdiction = forms.ChoiceField(label=_("Jurisdiction (blank = whole region)"),
                                     required=False)
    period_from = forms.DateField(label=_("Period from"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label=_("Period to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kinds=(), regions=(), jurisdictions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)
        self.fields["region"].choices = [(r.code, local_name(r)) for r in regions]
        self.fields["jurisdiction"].choices = [("", "—")] + [(j.code, f"{local_name(j)} ({j.code})")
                                                             for j in jurisdictions]


class TransferSearch(forms.Form):
    """Auditors' (and everyone's) transfer search; every field optional, all must match."""

    text = forms.CharField(label=_("Text (item, agency, certificate)"), required=False, max_length=100)
    certificate = forms.CharField(label=_("Certificate number"), required=False, max_length=16)
    status = forms.ChoiceField(label=_("Status"), required=False)
    jurisdiction = forms.TypedChoiceField(label=_("Jurisdiction (either party)"), required=False, coerce=int,
                                          empty_value=None)
    agency = forms.TypedChoiceField(label=_("Agency (either party)"), required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(label=_("Allocated from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Allocated until"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    value_min = forms.DecimalField(label=_("Value from (CNY)"), required=False, min_value=0, max_digits=14,
                                   decimal_places=2)
    value_max = forms.DecimalField(label=_("Value to (CNY)"), required=False, min_value=0, max_digits=14,
                                   decimal_places=2)

    def __init__(self, *args, statuses=(), jurisdictions=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("all"))] + list(statuses)
        self.fields["jurisdiction"].choices = [("", "—")] + [(j.pk, label) for j, label in jurisdictions]
        self.fields["agency"].choices = [("", "—")] + [(a.pk, label) for a, label in agencies]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        if data.get("value_min") is not None and data.get("value_max") is not None \
                and data["value_min"] > data["value_max"]:
            self.add_error("value_max", _("The upper bound is below the lower bound."))
        return data
