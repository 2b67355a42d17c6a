from django import forms
from django.utils.translation import gettext_lazy as _

from exchange.models import Condition
from lifecycle.models import Disposal


class ProposeDisposalForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=Disposal.Method.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    damaged_beyond_repair = forms.BooleanField(label=_("Damaged beyond repair"), required=False)
    damage_note = forms.CharField(label=_("Damage assessment"), max_length=500, required=False)


class DecideDisposalForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class CompleteDisposalForm(forms.Form):
    proceeds = forms.DecimalField(label=_("Proceeds (CNY)"), min_value=0, decimal_places=2,
                                  max_digits=14)
    note = forms.CharField(label=_("Outcome"), max_length=500, required=False)


class WantForm(forms.Form):
    agency = forms.ChoiceField(label=_("Agency"))
    asset_class = forms.ChoiceField(label=_("Asset class"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    min_condition = forms.ChoiceField(label=_("Condition at least"), choices=Condition.choices,
                                      initial=Condition.FAIR)
    within_km = forms.DecimalField(label=_("Within (km)"), required=False, min_value=0.1,
                                   decimal_places=1, max_digits=7)
    until = forms.DateField(label=_("Wanted until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, agencies=(), classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, a.name_zh) for a in agencies]
        self.fields["asset_class"].choices = [(c.code, f"{c.code} {c.name_zh} {c.name_en}") for c in classes]


class PurchaseForm(forms.Form):
    agency = forms.ChoiceField(label=_("Agency"))
    asset_class = forms.ChoiceField(label=_("Asset class"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    unit_price = forms.DecimalField(label=_("Unit price (CNY)"), min_value=0, decimal_places=2, max_digits=14)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    replaces = forms.CharField(label=_("Asset records replaced (numbers, comma-separated)"), required=False,
                               max_length=300)
    damaged_beyond_repair = forms.BooleanField(label=_("Replaced items damaged beyond repair"), required=False)
    damage_note = forms.CharField(label=_("Damage assessment"), max_length=500, required=False)

    def __init__(self, *args, agencies=(), classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, a.name_zh) for a in agencies]
        self.fields["asset_class"].choices = [(c.code, f"{c.code} {c.name_zh}") for c in classes]

    def clean_replaces(self):
        text = self.cleaned_data["replaces"].replace("，", ",")
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("Enter asset record numbers separated by commas."))
        return [int(p) for p in parts]
