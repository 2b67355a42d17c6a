"""Workbench pages. Reads go through `exchange.selectors` (which call `restrict`); each action is one
service call inside one transaction (`attempt`), so it is checked, validated and audited exactly as
the GraphQL mutation that calls the same service."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from exchange import selectors
from exchange.media import photo_file, protected_file
from exchange.models import ApprovalStep, Transfer, TransferRequest
from exchange.services import allocation, handover, items, occupancy, screening, transfer_requests
from exchange.services.approvals import decide_step
from kernel.errors import DomainError
from ledger import selectors as ledger_selectors
from ledger.selectors import compensation_estimates
from regions.permissions import allows, get_principal
from regions.scope import Scope
from regions.selectors import agencies_for, duties_of, jurisdictions_for, regions_for
from reports import selectors as report_selectors
from reports import services as report_services
from reports.models import ReportKind
from workbench import exports, forms
from workbench.base import add_domain_error, attempt, page
from workbench.duties import annotate
from workbench.templatetags.workbench import local_name

PAGE_SIZE = 20


def my_agencies(user):
    """Agencies the user may act for: their own agency (staff) or those of their jurisdictions (bureau)."""
    principal = get_principal(user)
    return list(agencies_for(user).filter(Q(pk__in=principal.staff_agencies)
                                          | Q(jurisdiction_id__in=principal.bureau_jurisdictions))
                .order_by("-is_affairs_bureau", "code"))


def _or_404(call, *args):
    try:
        return call(*args)
    except DomainError as exc:
        raise Http404(exc.message) from exc


# --- catalogue and map -----------------------------------------------------------------------------
def _catalogue_listings(request):
    agencies = my_agencies(request.user)
    default = agencies[0].pk if agencies else None  # distances from the user's own agency by default
    form = forms.CatalogueFilter(request.GET or None, agencies=agencies, initial={"from_agency": default},
                                 classes=selectors.asset_classes(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    from_agency = filters.get("from_agency") or default
    qs = None
    try:
        qs = selectors.listings_for(request.user, text=filters.get("text"), window=filters.get("window") or None,
                                    from_agency_id=from_agency, within_km=filters.get("within_km"),
                                    order=filters.get("order") or None)
    except DomainError as exc:
        add_domain_error(form, exc, aliases={"from_agency_id": "from_agency", "order_by": "order"})
    if qs is None:
        qs = selectors.listings_for(request.user)
    if filters.get("asset_class"):
        qs = qs.filter(asset__asset_class_id=filters["asset_class"])
    form.center = (next((a for a in agencies if a.pk == from_agency), None), filters.get("within_km"))
    return form, qs.filter(status="open")


@login_required
def catalogue(request):
    form, qs = _catalogue_listings(request)
    listings = Paginator(qs.prefetch_related("asset__photos"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page(request, "web/catalogue.html", {"form": form, "listings": listings, "query": query.urlencode()})


def _feature(geometry, properties):
    return {"type": "Feature", "geometry": json.loads(geometry.geojson), "properties": properties}


@login_required
def map_data(request):
    """GeoJSON for the catalogue map: city and province outlines from our boundary data, and the points
    of the listings that match the catalogue's filters (first 500)."""
    form, qs = _catalogue_listings(request)
    outlines = jurisdictions_for(request.user).filter(level__in=["province", "city"],
                                                      boundary_simplified__isnull=False).defer("boundary")
    features = [_feature(j.boundary_simplified, {"kind": "jurisdiction", "level": j.level, "code": j.code,
                                                 "name": local_name(j)}) for j in outlines]
    for listing in qs[:500]:
        features.append(_feature(listing.location, {
            "kind": "listing", "id": listing.pk, "title": listing.title, "agency": local_name(listing.agency),
            "url": reverse("web:listing", args=[listing.pk]), "available": listing.quantity_available}))
    data = {"type": "FeatureCollection", "features": features}
    agency, within_km = form.center
    if agency is not None and within_km:  # the radius circle of a distance filter
        data["radius"] = {"lon": agency.location.x, "lat": agency.location.y, "km": within_km}
    return JsonResponse(data)


# --- item page: request with a standards check before submitting -----------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def listing_detail(request, pk):
    listing = _or_404(selectors.listing, request.user, pk)
    agencies = [a for a in my_agencies(request.user) if a.pk != listing.agency_id]
    if request.POST.get("action") == "allocate":
        return _allocate(request, listing)
    form = forms.RequestForm(request.POST or None, agencies=agencies)
    check = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        agency = next(a for a in agencies if a.pk == data["agency"])
        if request.POST.get("action") == "check":
            ok, check = attempt(form, screening.standards_check, request.user, listing, agency, data["quantity"])
        else:
            ok, result = attempt(form, transfer_requests.create_request, request.user, listing=listing, agency=agency,
                                 quantity=data["quantity"], justification=data["justification"],
                                 needed_by=data["needed_by"], exception_requested=data["exception_requested"],
                                 exception_justification=data["exception_justification"],
                                 aliases={"agency_id": "agency", "listing_id": None})
            if ok:
                request_obj, transfer = result
                submitted = _("Request #%(id)s submitted.")
                messages.success(request, submitted % {"id": request_obj.pk})
                if transfer is not None:
                    return redirect("web:transfer", transfer.pk)
                return redirect("web:my_requests")
    can_allocate = (listing.status == "open" and listing.window_closed()
                    and allows(get_principal(request.user), "allocation.run", listing.permission_scope()))
    return page(request, "web/listing.html", {"listing": listing, "form": form, "check": check,
                                              "can_request": bool(agencies), "can_allocate": can_allocate})


def _allocate(request, listing):
    """The giving side allocates the pending requests of the closed window(s) (window-close modes)."""
    try:
        with transaction.atomic():
            made = allocation.allocate_at_window_close(listing, request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)s transfer(s) allocated.") % {"n": len(made)})
    return redirect("web:listing", listing.pk)


# --- register and list an idle asset --------------------------------------------------------------
def register_and_list(user, photos=(), **data):
    asset = items.register_asset(user, **data)
    for upload in photos:
        items.add_photo(user, asset, filename=upload.name, content=upload.read())
    return items.mark_idle(user, asset=asset)


@login_required
@require_http_methods(["GET", "POST"])
def asset_new(request):
    agencies = my_agencies(request.user)
    form = forms.AssetForm(request.POST or None, request.FILES or None, agencies=agencies,
                           classes=selectors.asset_classes(request.user))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["agency"] = next(a for a in agencies if a.pk == data["agency"])
        data["asset_class"] = selectors.asset_classes(request.user).get(pk=data["asset_class"])
        ok, listing = attempt(form, register_and_list, request.user, aliases={"content": "photos"}, **data)
        if ok:
            messages.success(request, _("Listed in the shared warehouse."))
            return redirect("web:listing", listing.pk)
    return page(request, "web/asset_new.html", {"form": form})


@login_required
def photo(request, pk):
    """A photo of an asset the user may see (or that is listed where the user may see it)."""
    found = _or_404(selectors.photo, request.user, pk)
    response = photo_file(found)  # nosniff, inline under its generated name, sandboxing CSP
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- my requests ------------------------------------------------------------------------------------
@login_required
def my_requests(request):
    principal = get_principal(request.user)
    qs = selectors.requests_for(request.user).filter(
        Q(agency_id__in=principal.staff_agencies) | Q(agency__jurisdiction_id__in=principal.bureau_jurisdictions))
    rows = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return page(request, "web/my_requests.html", {"rows": rows})


@login_required
@require_POST
def withdraw_request(request, pk):
    found = selectors.requests_for(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    try:
        with transaction.atomic():
            transfer_requests.withdraw_request(request.user, found, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, f"#{pk}: {exc.message}")
    else:
        messages.success(request, _("Request #%(id)s withdrawn.") % {"id": pk})
    return redirect("web:my_requests")


# --- approval queue ---------------------------------------------------------------------------------
def my_pending_steps(user):
    principal = get_principal(user)
    mine = (Q(kind=ApprovalStep.Kind.COORDINATOR, region_id__in=principal.coordinator_regions)
            | (~Q(kind=ApprovalStep.Kind.COORDINATOR) & Q(jurisdiction_id__in=principal.bureau_jurisdictions)))
    return selectors.approval_steps_for(user).filter(
        mine, decision=ApprovalStep.Decision.PENDING, transfer__status=Transfer.Status.APPROVING)


def _queue(user):
    """My pending steps, most urgent first, with what the approver decides on: the request (justification,
    needed-by, exception, standards result) and the transfer's value, km and region (compensation)."""
    return my_pending_steps(user).select_related(
        "transfer__request__standard_set", "transfer__region", "transfer__listing__asset__asset_class",
        "transfer__listing__office_space").order_by("light_rank", "due_at", "id")


def _queue_page(request, failed=None, status=200):
    rows = Paginator(_queue(request.user), PAGE_SIZE).get_page(1 if failed else request.GET.get("page"))

    estimates = compensation_estimates([step.transfer for step in rows])
    found = duties_of(rows)
    for step in rows:
        step.estimate = estimates.get(step.transfer_id)
        step.duty = found.get((ApprovalStep, step.pk))
    annotate(request.user, [step.duty for step in rows if step.duty is not None])
    return page(request, "web/approvals.html", {"rows": rows, "form": forms.DecisionForm(), "failed": failed},
                status=status)


@login_required
def approvals(request):
    return _queue_page(request)


@login_required
@require_POST
def decide(request, pk):
    step = my_pending_steps(request.user).filter(pk=pk).first()
    if step is None:
        raise Http404
    form = forms.DecisionForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    if form.is_valid():
        ok, _step = attempt(form, decide_step, request.user, step, approve=approve,
                            reason=form.cleaned_data["reason"])
        if ok:
            messages.success(request, _("Approved.") if approve else _("Refused."))
            if request.POST.get("from") == "transfer":
                return redirect("web:transfer", step.transfer_id)
            return redirect("web:approvals")
    if request.POST.get("from") == "transfer":
        transfer = _or_404(selectors.transfer, request.user, step.transfer_id)
        return _transfer_page(request, transfer, decision=form, status=400)
    return _queue_page(request, failed={"step": step.pk, "form": form}, status=400)


# --- transfers list: what awaits handover, what is under way ----------------------------------------
def _transfer_search(request):
    """The search form (choices limited to what the user can see) and the matching transfers."""
    cities = jurisdictions_for(request.user).filter(level__in=["province", "city"]).defer(
        "boundary", "boundary_simplified").order_by("code")
    agencies = agencies_for(request.user).select_related("jurisdiction").defer(
        "jurisdiction__boundary", "jurisdiction__boundary_simplified").order_by("jurisdiction__code", "code")
    form = forms.TransferSearch(
        request.GET or None, statuses=Transfer.Status.choices,
        jurisdictions=[(j, local_name(j)) for j in cities], agencies=[(a, local_name(a)) for a in agencies])
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.search_transfers(request.user, **{
        "text": filters.get("text"), "status": filters.get("status") or None,
        "agency_id": filters.get("agency"), "jurisdiction_id": filters.get("jurisdiction"),
        "date_from": filters.get("date_from"), "date_to": filters.get("date_to"),
        "value_min": filters.get("value_min"), "value_max": filters.get("value_max"),
        "certificate": filters.get("certificate")})
    return form, qs


@login_required
def transfer_list(request):
    form, qs = _transfer_search(request)
    rows = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page(request, "web/transfers.html", {"rows": rows, "form": form, "query": query.urlencode(),
                                                "total": rows.paginator.count},
                status=400 if form.errors else 200)


@login_required
def transfer_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    form, qs = _transfer_search(request)
    if form.errors:
        return transfer_list(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        body, kind = exports.to_xlsx(qs), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, kind = exports.to_csv(qs), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="transfers-{stamp}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- transfer page: handover confirmation, cancellation ---------------------------------------------
def _open_occupancy(request, transfer):
    """The transfer's occupancy (office space) with whether the user may end it now."""
    found = selectors.occupancies_for(request.user).filter(transfer=transfer).first()
    if found is None:
        return None, False
    principal = get_principal(request.user)
    owner = found.office_space.agency
    sides = (Scope(region_id=transfer.region_id, jurisdiction_id=found.occupant.jurisdiction_id,
                   agency_id=found.occupant_id),
             Scope(region_id=transfer.region_id, jurisdiction_id=owner.jurisdiction_id, agency_id=owner.pk))
    return found, found.ended_on is None and any(allows(principal, "occupancy.end", s) for s in sides)


def _transfer_page(request, transfer, handover=None, cancel=None, decision=None, status=200, end_form=None):
    principal = get_principal(request.user)
    receiver = Scope(jurisdiction_id=transfer.receiver_jurisdiction_id, agency_id=transfer.receiver_id)
    can_confirm = transfer.status == Transfer.Status.HANDOVER and allows(principal, "handover.confirm", receiver)
    can_cancel = transfer.status in (Transfer.Status.APPROVING, Transfer.Status.HANDOVER) and any(
        allows(principal, "transfer.cancel", scope) for scope in (
            transfer.permission_scope(),
            Scope(region_id=transfer.region_id, jurisdiction_id=transfer.giver_jurisdiction_id,
                  agency_id=transfer.giver_id)))
    handover = handover or forms.HandoverForm(initial={"received_quantity": transfer.quantity,
                                                       "received_condition": "good"})
    my_step = my_pending_steps(request.user).filter(transfer=transfer).first()
    estimate = None
    if transfer.status in (Transfer.Status.APPROVING, Transfer.Status.HANDOVER):
        estimate = compensation_estimates([transfer]).get(transfer.pk)
    used, can_end = _open_occupancy(request, transfer)
    steps = list(transfer.steps.all())
    return page(request, "web/transfer.html", {
        "stages": _stages(request.user, transfer, steps),
        "transfer": transfer, "request_obj": transfer.request, "my_step": my_step, "estimate": estimate,
        "decision": decision or forms.DecisionForm(), "steps": steps, "can_confirm": can_confirm,
        "trail": selectors.transfer_trail(request.user, transfer.pk), "compensation": _compensation(request, transfer),
        "can_cancel": can_cancel, "handover": handover, "cancel": cancel or forms.CancelForm(),
        "occupancy": used, "can_end": can_end,
        "end_form": end_form or forms.EndOccupancyForm(initial={"last_day": timezone.localdate()})}, status=status)


def _stages(user, transfer, steps):
    """Every stage of the transfer with its duty (responsible person, deadline, light): the request pending
    allocation, each approval step, the handover."""
    request_obj = transfer.request
    found = duties_of([request_obj, *steps, transfer])
    rows = [(_("Request pending allocation"), found.get((TransferRequest, request_obj.pk)))]
    rows += [(step.get_kind_display(), found.get((ApprovalStep, step.pk))) for step in steps]
    rows.append((_("Handover"), found.get((Transfer, transfer.pk))))
    annotate(user, [duty for _label, duty in rows if duty is not None])
    return rows


def _compensation(request, transfer):
    if transfer.status != Transfer.Status.COMPLETED:
        return None

    try:
        return ledger_selectors.compensation_for(request.user, transfer.pk)
    except DomainError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def transfer_detail(request, pk):
    transfer = _or_404(selectors.transfer, request.user, pk)
    if request.method == "GET":
        return _transfer_page(request, transfer)
    if request.POST.get("action") == "end_occupancy":
        form = forms.EndOccupancyForm(request.POST)
        found = selectors.occupancies_for(request.user).filter(transfer=transfer).first()
        if found is not None and form.is_valid():
            ok, _o = attempt(form, occupancy.end_occupancy, request.user, found,
                             last_day=form.cleaned_data["last_day"])
            if ok:
                messages.success(request, _("The occupancy has ended; its rent-equivalent is posted."))
                return redirect("web:transfer", pk)
        return _transfer_page(request, transfer, end_form=form, status=400)
    if request.POST.get("action") == "cancel":
        form = forms.CancelForm(request.POST)
        if form.is_valid():
            ok, _t = attempt(form, handover.cancel_transfer, request.user, transfer,
                             reason=form.cleaned_data["reason"])
            if ok:
                messages.success(request, _("Transfer cancelled."))
                return redirect("web:transfer", pk)
        return _transfer_page(request, transfer, cancel=form, status=400)
    form = forms.HandoverForm(request.POST)
    if form.is_valid():
        ok, _t = attempt(form, handover.confirm_handover, request.user, transfer, **form.cleaned_data)
        if ok:
            messages.success(request, _("Handover confirmed; the transfer is complete."))
            return redirect("web:transfer", pk)
    return _transfer_page(request, transfer, handover=form, status=400)


# --- reports: request, progress, download -----------------------------------------------------------
def _report_form(request, data=None):
    principal = get_principal(request.user)
    kinds = [(k, label) for k, label in ReportKind.choices if k != ReportKind.TRANSFER_CERTIFICATE]
    regions = regions_for(request.user).filter(pk__in=principal.regions)
    jurisdictions = jurisdictions_for(request.user).filter(
        pk__in=principal.readable_jurisdictions, level__in=["province", "city"]).order_by("code")
    return forms.ReportForm(data, kinds=kinds, regions=regions, jurisdictions=jurisdictions)


@login_required
@require_http_methods(["GET", "POST"])
def reports(request):
    form = _report_form(request, request.POST or None)
    if request.method == "POST" and "transfer" in request.POST:  # "certificate" button of a transfer page
        transfer_id = request.POST["transfer"]
        try:
            with transaction.atomic():
                report_services.request_report(request.user, "transfer_certificate", transfer_id=transfer_id)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("web:transfer", transfer_id) if transfer_id.isdigit() else redirect("web:reports")
        messages.success(request, _("Certificate requested."))
        return redirect("web:reports")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, _job = attempt(form, report_services.request_report, request.user, data["kind"],
                           region_code=data["region"], jurisdiction_code=data["jurisdiction"] or None,
                           period_from=data["period_from"], period_to=data["period_to"],
                           aliases={"region_code": "region", "jurisdiction_code": "jurisdiction"})
        if ok:
            messages.success(request, _("Report requested."))
            return redirect("web:reports")
    jobs = report_selectors.jobs_for(request.user).order_by("-created_at", "-id")
    rows = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    busy = any(job.status in ("queued", "running") for job in rows)
    return page(request, "web/reports.html", {"form": form, "rows": rows, "busy": busy},
                status=400 if form.errors else 200)


@login_required
def report_download(request, pk):
    job = _or_404(report_services.job_for_download, request.user, pk)
    return protected_file(job.file, "application/pdf", filename=job.filename, as_attachment=True)


# --- ledger balances ----------------------------------------------------------------------------------
@login_required
def ledger(request):
    accounts = list(ledger_selectors.accounts_for(request.user).order_by("region_id", "kind", "code"))
    legs = ledger_selectors.legs_for(request.user).order_by("-transaction__date", "-transaction_id", "-id")
    rows = Paginator(legs, PAGE_SIZE).get_page(request.GET.get("page"))
    instructions = ledger_selectors.instructions_for(request.user).filter(confirmed_at__isnull=True)[:50]
    compensation = ledger_selectors.restricted_accounts(request.user).filter(kind="compensation")
    return page(request, "web/ledger.html", {
        "accounts": accounts, "rows": rows, "instructions": instructions,
        "total": ledger_selectors.totals(compensation) if len(accounts) > 1 else None,
        "breakdowns": ledger_selectors.compensations_for(request.user).select_related(
            "transfer__listing")[:50]})
