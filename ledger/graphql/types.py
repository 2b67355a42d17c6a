import graphene

from api.connection import CountableConnection
from api.errors import global_id
from api.scalars import Money
from api.scoped import ScopedObjectType
from ledger import selectors
from ledger.graphql import enums
from ledger.models import (
    SAVINGS_DEFINITION,
    Account,
    ClosingBalance,
    CompensationBreakdown,
    Leg,
    PaymentInstruction,
    SettlementPeriod,
)
from regions.graphql.duties import duty_field


class LedgerAccountType(ScopedObjectType):
    class Meta:
        model = Account
        name = "LedgerAccount"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        convert_choices_to_enum = False
        fields = ("id", "kind", "code", "name", "region", "jurisdiction")

    pk = graphene.Int(required=True)
    kind = graphene.Field(enums.AccountKind, required=True)
    balance = Money(required=True, description="Σdebit − Σcredit of posted legs (CNY; + owes).")
    debits = Money(required=True)
    credits = Money(required=True)

    def resolve_balance(root, info):
        if not hasattr(root, "balance"):  # fetched without the SQL annotation (e.g. as a statement's account)
            return selectors.balance_of(root)
        return selectors.money(root.balance)

    def resolve_debits(root, info):
        return selectors.money(getattr(root, "debits", None))

    def resolve_credits(root, info):
        return selectors.money(getattr(root, "credits", None))


class LedgerLegType(ScopedObjectType):
    class Meta:
        model = Leg
        name = "LedgerLeg"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        convert_choices_to_enum = False
        fields = ("id", "side", "amount", "account")

    side = graphene.Field(enums.LegSide, required=True)
    amount = Money(required=True)
    date = graphene.Date(required=True)
    kind = graphene.Field(enums.JournalKind, required=True, description="Kind of the journal transaction.")
    description = graphene.String(required=True)
    transaction_id = graphene.ID(required=True, description="Global ID of the journal transaction.")
    transfer_id = graphene.ID(description="Global ID of the transfer the transaction posts, if any.")

    def resolve_date(root, info):
        return root.transaction.date

    def resolve_kind(root, info):
        return root.transaction.kind

    def resolve_description(root, info):
        return root.transaction.description

    def resolve_transaction_id(root, info):
        return global_id("JournalTransaction", root.transaction_id)

    def resolve_transfer_id(root, info):
        return global_id("Transfer", root.transaction.transfer_id)


class SettlementPeriodType(ScopedObjectType):
    class Meta:
        model = SettlementPeriod
        name = "SettlementPeriod"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        convert_choices_to_enum = False
        fields = ("id", "region", "start", "end", "status", "closed_at")

    pk = graphene.Int(required=True)
    status = graphene.Field(enums.SettlementPeriodStatus, required=True)


class PaymentInstructionType(ScopedObjectType):
    class Meta:
        model = PaymentInstruction
        name = "PaymentInstruction"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "period", "amount", "confirmed_at")

    pk = graphene.Int(required=True)
    amount = Money(required=True)
    payer = graphene.String(required=True, description="Paying member jurisdiction's division code.")
    payee = graphene.String(required=True, description="Receiving member jurisdiction's division code.")
    payer_name = graphene.String(required=True)
    payee_name = graphene.String(required=True)
    confirmed = graphene.Boolean(required=True)
    transaction_id = graphene.ID(description="Global ID of the settlement transaction, once confirmed.")
    duty = duty_field("The payment's responsible person, deadline and light.")

    def resolve_payer(root, info):
        return root.payer.jurisdiction.code

    def resolve_payee(root, info):
        return root.payee.jurisdiction.code

    def resolve_payer_name(root, info):
        return root.payer.jurisdiction.name_zh

    def resolve_payee_name(root, info):
        return root.payee.jurisdiction.name_zh

    def resolve_confirmed(root, info):
        return root.transaction_id is not None

    def resolve_transaction_id(root, info):
        return global_id("JournalTransaction", root.transaction_id)


class ClosingBalanceType(ScopedObjectType):
    class Meta:
        model = ClosingBalance
        name = "ClosingBalance"
        fields = ("account", "balance")

    balance = Money(required=True)


class CompensationType(ScopedObjectType):
    class Meta:
        model = CompensationBreakdown
        name = "CompensationBreakdown"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "handling_fee", "transport", "total", "created_at", "giver_jurisdiction",
                  "receiver_jurisdiction")

    @classmethod
    def node_queryset(cls, info):
        return selectors.compensations_for(info.context.user)

    residual_value_compensation = Money(
        required=True, description="残值补偿 Residual value × the class's compensation rate, CNY.")
    handling_fee = Money(required=True, description="手续费 Handling fee, CNY.")
    transport = Money(required=True, description="运输费 Transport: km × rate per km, CNY.")
    total = Money(required=True, description="补偿合计 Compensation (rounded half-up once), CNY.")
    value_not_bought = Money(description="免于购置的价值 Value the receiver did not have to buy, CNY (null for office "
                                         "space). " + SAVINGS_DEFINITION)
    savings = Money(description=SAVINGS_DEFINITION)
    transfer_id = graphene.ID(required=True, description="Global ID of the transfer.")
    transaction_id = graphene.ID(description="Global ID of the journal transaction that posted it.")
    details = graphene.JSONString(required=True, description="Every figure and formula used, as computed.")

    def resolve_residual_value_compensation(root, info):
        return root.residual_amount

    def resolve_transfer_id(root, info):
        return global_id("Transfer", root.transfer_id)

    def resolve_transaction_id(root, info):
        return global_id("JournalTransaction", root.transaction_id)

    def resolve_details(root, info):
        return root.details


class StatementType(graphene.ObjectType):
    class Meta:
        name = "LedgerStatement"
        description = "对账单 A ledger account's statement for a date range (CNY)."

    account = graphene.Field(LedgerAccountType, required=True)
    start = graphene.Date(required=True)
    end = graphene.Date(required=True)
    opening = Money(required=True)
    debits = Money(required=True)
    credits = Money(required=True)
    closing = Money(required=True)


class LedgerSummaryType(graphene.ObjectType):
    """A bureau's accounts at or below a jurisdiction (a province: each city's line) and their sum."""

    class Meta:
        name = "LedgerSummary"

    jurisdiction_code = graphene.String(required=True)
    balance = Money(required=True, description="Σ of the lines' balances (CNY; + owes).")
    debits = Money(required=True)
    credits = Money(required=True)
    accounts = graphene.List(graphene.NonNull(LedgerAccountType), required=True)
