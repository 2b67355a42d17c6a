"""Settlement periods for the coordinator: close a period (closing balances, netted payment instructions)
and confirm each payment once made; everyone in scope reads periods and instructions."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.errors import DomainError
from ledger import selectors as ledger_selectors
from ledger.services import settlement
from regions.permissions import allows, get_principal
from workbench.base import page


@login_required
def periods(request):
    principal = get_principal(request.user)
    rows = list(ledger_selectors.periods_for(request.user).order_by("-start", "region_id")[:60])
    instructions = list(ledger_selectors.instructions_for(request.user).filter(period__in=rows))
    by_period = {}
    for item in instructions:
        item.can_confirm = not item.transaction_id and allows(principal, "payment.confirm", item.permission_scope())
        by_period.setdefault(item.period_id, []).append(item)
    for period in rows:
        period.items = by_period.get(period.pk, [])
        period.can_close = period.status == "open" and allows(principal, "period.close", period.permission_scope())
    return page(request, "web/settlement.html", {"periods": rows})


def _run(request, call, obj, done):
    try:
        with transaction.atomic():
            call(request.user, obj)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("web:settlement")


@login_required
@require_POST
def close(request, pk):
    period = ledger_selectors.periods_for(request.user).filter(pk=pk).first()
    if period is None:
        raise Http404
    return _run(request, settlement.close_period, period, _("Period %(start)s – %(end)s closed.") % {
        "start": period.start, "end": period.end})


@login_required
@require_POST
def confirm(request, pk):
    instruction = ledger_selectors.instructions_for(request.user).filter(pk=pk).first()
    if instruction is None:
        raise Http404
    return _run(request, settlement.confirm_payment, instruction, _("Payment #%(id)s confirmed.") % {"id": pk})
