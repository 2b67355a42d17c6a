"""Ledger GraphQL: accounts with balances (scoped), legs, compensation breakdowns, periods, payment
instructions, closing balances, statements; close a period and confirm a payment."""
import graphene

from api.connection import PagedConnectionField
from api.errors import decode_id
from ledger import selectors
from regions.selectors import jurisdiction_by_code

from .filters import AccountFilter, CompensationFilter, InstructionFilter, LegFilter, PeriodFilter
from .mutations import CloseSettlementPeriod, ConfirmSettlementPayment
from .types import (
    ClosingBalanceType,
    CompensationType,
    LedgerAccountType,
    LedgerLegType,
    LedgerSummaryType,
    PaymentInstructionType,
    SettlementPeriodType,
    StatementType,
)


class Query(graphene.ObjectType):
    ledger_accounts = PagedConnectionField(LedgerAccountType, filterset_class=AccountFilter)
    ledger_legs = PagedConnectionField(LedgerLegType, filterset_class=LegFilter)
    settlement_periods = PagedConnectionField(SettlementPeriodType, filterset_class=PeriodFilter)
    payment_instructions = PagedConnectionField(PaymentInstructionType, filterset_class=InstructionFilter)
    closing_balances = graphene.List(graphene.NonNull(ClosingBalanceType), required=True,
                                     period_id=graphene.ID(required=True))
    compensation = graphene.Field(CompensationType, transfer_id=graphene.ID(required=True))
    ledger_statement = graphene.Field(StatementType, account_id=graphene.ID(required=True),
                                      start=graphene.Date(required=True), end=graphene.Date(required=True))
    compensations = PagedConnectionField(CompensationType, filterset_class=CompensationFilter)
    ledger_summary = graphene.Field(LedgerSummaryType, jurisdiction=graphene.String(required=True),
                                    as_of=graphene.Date(),
                                    description="Accounts at or below a jurisdiction (division code) and their sum.")

    def resolve_ledger_accounts(root, info, **kwargs):
        return selectors.restricted_accounts(info.context.user)  # balances annotated by AccountFilter

    def resolve_ledger_legs(root, info, **kwargs):
        return selectors.legs_for(info.context.user)

    def resolve_settlement_periods(root, info, **kwargs):
        return selectors.periods_for(info.context.user)

    def resolve_payment_instructions(root, info, **kwargs):
        return selectors.instructions_for(info.context.user)

    def resolve_closing_balances(root, info, period_id):
        return selectors.closing_balances_for(info.context.user).filter(
            period_id=decode_id(period_id, "SettlementPeriod", "periodId"))

    def resolve_compensation(root, info, transfer_id):
        return selectors.compensation_for(info.context.user, decode_id(transfer_id, "Transfer", "transferId"))

    def resolve_compensations(root, info, **kwargs):
        return selectors.compensations_for(info.context.user)

    def resolve_ledger_summary(root, info, jurisdiction, as_of=None):
        found = jurisdiction_by_code(info.context.user, jurisdiction)
        lines, totals = selectors.jurisdiction_summary(info.context.user, found, as_of)
        return LedgerSummaryType(jurisdiction_code=found.code, accounts=list(lines), **totals)

    def resolve_ledger_statement(root, info, account_id, start, end):
        account, figures = selectors.statement(info.context.user, decode_id(account_id, "LedgerAccount",
                                                                             "accountId"), start, end)
        return StatementType(account=account, start=start, end=end, **figures)


class Mutation(graphene.ObjectType):
    close_settlement_period = CloseSettlementPeriod.Field()
    confirm_settlement_payment = ConfirmSettlementPayment.Field()
