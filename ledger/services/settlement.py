"""Closing a settlement period (coordinator): freeze the members' closing balances, net them into the
fewest payment instructions; confirming an instruction posts its settlement transaction."""
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel import audit
from kernel.errors import InvalidState, NotFound
from ledger import selectors
from ledger.models import Account, ClosingBalance, JournalTransaction, PaymentInstruction, SettlementPeriod
from regions.permissions import require
from regions.services import duties

from .netting import net
from .posting import clearing_account, ensure_member_accounts, post


def _locked(model, pk, field):
    found = model.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(field=field)
    return found


def close_period(user, period):
    require(user, "period.close", period)
    period = _locked(SettlementPeriod, period.pk, "period_id")
    if period.status != SettlementPeriod.Status.OPEN:
        raise InvalidState(_("The period is already closed."), field="period_id")
    if timezone.localdate() <= period.end:
        raise InvalidState(_("The period runs until %(end)s; it can be closed from the day after.")
                           % {"end": period.end.isoformat()}, field="period_id")
    unpaid = PaymentInstruction.objects.filter(period__region_id=period.region_id, transaction__isnull=True)
    if unpaid.exists():
        raise InvalidState(_("Confirm the payments of the previous closed period first."), field="period_id")
    earlier_open = SettlementPeriod.objects.filter(region_id=period.region_id, start__lt=period.start,
                                                   status=SettlementPeriod.Status.OPEN)
    if earlier_open.filter(Exists(JournalTransaction.objects.filter(period=OuterRef("pk")))).exists():
        raise InvalidState(_("Close the earlier periods with postings first."), field="period_id")
    ensure_member_accounts(period.region, period.end)
    balances = selectors.balances(period.region, period.end)
    ClosingBalance.objects.bulk_create([ClosingBalance(period=period, account_id=a, balance=b)
                                        for a, b in balances.items()])
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=balances)}
    instructions = PaymentInstruction.objects.bulk_create([
        PaymentInstruction(period=period, payer=accounts[payer], payee=accounts[payee], amount=amount)
        for payer, payee, amount in net({k: v for k, v in balances.items() if v})])
    days = duties.standard_days(period.region, "payment_working_days")
    for instruction in instructions:
        duties.open_duty(instruction, duties.Stage.PAYMENT, action="payment.confirm", region_id=period.region_id,
                         jurisdiction_id=instruction.payer.jurisdiction_id, working_days=days)
    SettlementPeriod.objects.filter(pk=period.pk).update(status=SettlementPeriod.Status.CLOSED,
                                                         closed_at=timezone.now(), closed_by=user)
    period.refresh_from_db()
    audit.record(user, "ledger.period_closed", period, before={"status": "open"},
                 after={"status": "closed", "balances": {str(k): v for k, v in balances.items()},
                        "instructions": [(i.payer_id, i.payee_id, i.amount) for i in instructions]},
                 region=period.region)
    audit.checkpoint("settlement_close", reference=f"period:{period.pk}")
    return period


def confirm_payment(user, instruction):
    instruction = PaymentInstruction.objects.select_related("period__region", "payer", "payee").filter(
        pk=instruction.pk).first()
    if instruction is None:
        raise NotFound(field="instruction_id")
    require(user, "payment.confirm", instruction)
    instruction = _locked(PaymentInstruction, instruction.pk, "instruction_id")
    if instruction.transaction_id:
        raise InvalidState(_("The payment is already confirmed."), field="instruction_id")
    region, clearing = instruction.period.region, clearing_account(instruction.period.region)
    amount = instruction.amount
    txn, _created = post(region, on=timezone.localdate(), kind=JournalTransaction.Kind.SETTLEMENT,
                         key=f"settlement:{instruction.pk}",
                         description=f"结算付款 settlement payment #{instruction.pk}: {instruction.payer} → "
                                     f"{instruction.payee}",
                         legs=[(instruction.payer, "credit", amount), (clearing, "debit", amount),
                               (clearing, "credit", amount), (instruction.payee, "debit", amount)])
    PaymentInstruction.objects.filter(pk=instruction.pk).update(transaction=txn, confirmed_at=timezone.now(),
                                                                confirmed_by=user)
    duties.close_duty(instruction, duties.Stage.PAYMENT)
    instruction.refresh_from_db()
    audit.record(user, "ledger.payment_confirmed", instruction, after={"transaction": txn.pk, "amount": amount},
                 region=region)
    return instruction
