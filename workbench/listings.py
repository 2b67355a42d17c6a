"""Pages for what an agency offers: register office space (and list it at once), and "my listings" with
their state, requests waiting and the withdraw action. Each action is one transaction through the
services (checked and audited as the GraphQL mutations that call the same services)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from exchange import selectors
from exchange.models import Asset, Condition, Listing, OfficeSpace
from exchange.services import items
from workbench.base import attempt, page
from workbench.forms import BoundedForm
from workbench.templatetags.workbench import local_name
from workbench.views import my_agencies

PAGE_SIZE = 20


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OfficeSpaceForm(BoundedForm):
    bounded = dict.fromkeys(("building", "floor", "rooms", "area_m2"), OfficeSpace)

    agency = forms.TypedChoiceField(label=gettext_lazy("Agency"), coerce=int)
    building = forms.CharField(label=gettext_lazy("Building"))
    floor = forms.CharField(label=gettext_lazy("Floor"), required=False)
    rooms = forms.CharField(label=gettext_lazy("Room(s)"), required=False)
    area_m2 = forms.DecimalField(label=gettext_lazy("Usable area (m²)"), min_value=0.01)
    available_from = forms.DateField(label=gettext_lazy("Available from"), widget=_date_input())
    available_to = forms.DateField(label=gettext_lazy("Available to (blank = open-ended)"), required=False,
                                   widget=_date_input())
    list_now = forms.BooleanField(label=gettext_lazy("List it in the shared warehouse now"), required=False,
                                  initial=True)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, local_name(a)) for a in agencies]


class EditForm(BoundedForm):
    bounded = {"description": Asset}

    description = forms.CharField(label=gettext_lazy("Description"))
    condition = forms.ChoiceField(label=gettext_lazy("Condition"), choices=Condition.choices)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def register_office_space(user, *, list_now, **data):
    space = items.register_office_space(user, **data)
    return items.mark_idle(user, office_space=space) if list_now else space


@login_required
@require_http_methods(["GET", "POST"])
def office_space_new(request):
    agencies = my_agencies(request.user)
    if not agencies:
        raise Http404
    form = OfficeSpaceForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["agency"] = next(a for a in agencies if a.pk == data["agency"])
        ok, result = attempt(form, register_office_space, request.user, **data)
        if ok:
            if isinstance(result, Listing):
                messages.success(request, _("Listed in the shared warehouse."))
                return redirect("web:listing", result.pk)
            messages.success(request, _("Office space registered."))
            return redirect("web:my_listings")
    return page(request, "web/office_space_new.html", {"form": form}, status=400 if form.errors else 200)


def _listings_page(request, failed=None, status=200):
    rows = Paginator(selectors.my_listings(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return page(request, "web/my_listings.html", {"rows": rows, "failed": failed, "form": WithdrawForm()},
                status=status)


@login_required
def my_listings(request):
    return _listings_page(request)


@login_required
@require_POST
def withdraw_listing(request, pk):
    listing = selectors.my_listings(request.user).filter(pk=pk).first()
    if listing is None:
        raise Http404
    form = WithdrawForm(request.POST)
    if form.is_valid():
        ok, _listing = attempt(form, items.withdraw_listing, request.user, listing,
                               reason=form.cleaned_data["reason"], aliases={"listing_id": None})
        if ok:
            messages.success(request, _("Listing #%(id)s withdrawn.") % {"id": pk})
            return redirect("web:my_listings")
    return _listings_page(request, failed={"listing": pk, "form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def edit_listing(request, pk):
    listing = selectors.my_listings(request.user).filter(pk=pk, status=Listing.Status.OPEN,
                                                         asset__isnull=False).first()
    if listing is None:
        raise Http404
    form = EditForm(request.POST or None, initial={"description": listing.asset.description,
                                                   "condition": listing.asset.condition})
    if request.method == "POST" and form.is_valid():
        ok, _listing = attempt(form, items.edit_listing, request.user, listing, **form.cleaned_data,
                               aliases={"listing_id": None})
        if ok:
            messages.success(request, _("Listing #%(id)s corrected.") % {"id": pk})
            return redirect("web:my_listings")
    return page(request, "web/listing_edit.html", {"listing": listing, "form": form},
                status=400 if form.errors else 200)
