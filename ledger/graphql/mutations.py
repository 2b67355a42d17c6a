import graphene

from api.errors import DomainMutation, decode_id
from kernel.errors import NotFound
from ledger.models import PaymentInstruction, SettlementPeriod
from ledger.services import settlement

from .types import PaymentInstructionType, SettlementPeriodType


class CloseSettlementPeriod(DomainMutation):
    """Close a period (regional coordinator): freeze closing balances, net them into payment instructions."""

    idempotent = True  # freezes balances and nets them into payment instructions

    class Input:
        period_id = graphene.ID(required=True)

    period = graphene.Field(SettlementPeriodType)
    instructions = graphene.List(graphene.NonNull(PaymentInstructionType))

    @classmethod
    def perform(cls, info, period_id):
        period = SettlementPeriod.objects.filter(pk=decode_id(period_id, "SettlementPeriod", "periodId")).first()
        if period is None:
            raise NotFound(field="periodId")
        period = settlement.close_period(info.context.user, period)
        instructions = period.instructions.select_related("payer__jurisdiction", "payee__jurisdiction")
        return cls(period=period, instructions=list(instructions))


class ConfirmSettlementPayment(DomainMutation):
    """Confirm a payment instruction was paid (regional coordinator): posts the settlement transaction."""

    idempotent = True  # posts the settlement transaction

    class Input:
        instruction_id = graphene.ID(required=True)

    instruction = graphene.Field(PaymentInstructionType)

    @classmethod
    def perform(cls, info, instruction_id):
        pk = decode_id(instruction_id, "PaymentInstruction", "instructionId")
        instruction = PaymentInstruction.objects.filter(pk=pk).first()
        if instruction is None:
            raise NotFound(field="instructionId")
        return cls(instruction=settlement.confirm_payment(info.context.user, instruction))
