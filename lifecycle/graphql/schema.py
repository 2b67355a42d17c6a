"""GraphQL door of the lifecycle: disposals (处置), wants and their matches."""
import django_filters
import graphene
from django.urls import reverse
from django.utils import translation

from api.connection import CountableConnection, PagedConnectionField
from api.enums import Light
from api.errors import DomainMutation, decode_id, global_id
from api.filtering import EnumFilter
from api.scalars import Money, domain_enum, enum_value, km
from api.scoped import ScopedObjectType
from exchange.graphql.enums import Condition
from exchange.graphql.mutations import acting_agency
from exchange.graphql.types import AssetClassType, ListingType
from exchange.models import AssetClass
from exchange.selectors import assets_for
from kernel.errors import NotFound
from lifecycle import selectors
from lifecycle.models import Disposal, Loan, LoanOffer, PurchaseRequest, Want, WebhookDelivery, WebhookEndpoint
from lifecycle.services import disposal as disposals
from lifecycle.services import loans as loan_service
from lifecycle.services import purchases, webhooks
from lifecycle.services import wants as want_service
from regions.models import Jurisdiction

DisposalStatus = domain_enum("DisposalStatus", Disposal.Status, "处置状态 Status of a disposal.")
DisposalMethod = domain_enum("DisposalMethod", Disposal.Method, "处置方式 Method of a disposal.")
WantStatus = domain_enum("WantStatus", Want.Status, "需求状态 Status of a want.")
PurchaseOutcome = domain_enum("PurchaseOutcome", PurchaseRequest.Outcome,
                              "购置审查结论 Answer of a purchase check (先调剂后购置).")
PurchaseCheckName = domain_enum("PurchaseCheckName", [
    ("standard", "配置标准 standard in force"), ("price_cap", "价格上限 price cap"),
    ("quota_per_head", "人均数量定额 quota per head"),
    ("min_service_life", "被替换资产最低使用年限 minimum service life of the items replaced"),
    ("warehouse", "公物仓调剂 warehouse")], "购置审查项 A check of a purchase, in the order run.")


class DisposalType(ScopedObjectType):
    class Meta:
        model = Disposal
        name = "Disposal"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "listing", "asset", "agency", "jurisdiction", "quantity", "status", "method", "reason",
                  "damaged_beyond_repair", "damage_note", "proposed_at", "decided_at", "decision_reason", "proceeds",
                  "outcome_note", "disposed_at", "opened_at")

    pk = graphene.Int(required=True)
    status = graphene.Field(DisposalStatus, required=True)
    method = graphene.Field(DisposalMethod, description="Null until a method is proposed.")
    proceeds = Money(description="处置收入 Proceeds, CNY (once disposed).")

    @classmethod
    def node_queryset(cls, info):
        return selectors.disposals_for(info.context.user)

    def resolve_method(root, info):
        return root.method or None


class DisposalFilter(django_filters.FilterSet):
    status = EnumFilter(DisposalStatus)

    class Meta:
        model = Disposal
        fields = ["status"]


class WantType(ScopedObjectType):
    class Meta:
        model = Want
        name = "Want"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "agency", "asset_class", "quantity", "min_condition", "within_km", "until", "reason",
                  "status", "created_at")

    pk = graphene.Int(required=True)
    status = graphene.Field(WantStatus, required=True)
    min_condition = graphene.Field(Condition, required=True)
    within_km = graphene.Float(description="Radius in km; null: anywhere the agency may request from.")

    @classmethod
    def node_queryset(cls, info):
        return selectors.wants_for(info.context.user)

    def resolve_within_km(root, info):
        return km(root.within_km)


class WantFilter(django_filters.FilterSet):
    status = EnumFilter(WantStatus)

    class Meta:
        model = Want
        fields = ["status"]


class WantMatch(graphene.ObjectType):
    want = graphene.Field(WantType, required=True)
    listing = graphene.Field(ListingType, required=True)
    distance_km = graphene.Float(required=True, description="Geodesic km from the listing to the wanting agency.")


class PurchaseCheckLine(graphene.ObjectType):
    check = graphene.Field(PurchaseCheckName, required=True)
    ok = graphene.Boolean(required=True)
    code = graphene.String(required=True)
    message = graphene.String(required=True, description="The reason, in the caller's language.")


class PurchaseMatch(graphene.ObjectType):
    listing_id = graphene.ID(required=True, description="Global ID of the listing.")
    title = graphene.String(required=True)
    agency_name = graphene.String(required=True)
    distance_km = graphene.Float(required=True)
    available = graphene.Int(required=True)
    condition = graphene.Field(Condition, required=True)


class PurchaseCheckType(ScopedObjectType):
    class Meta:
        model = PurchaseRequest
        name = "PurchaseCheck"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "code", "agency", "asset_class", "quantity", "unit_price", "reason", "outcome",
                  "damaged_beyond_repair", "standard_set", "exception_justification", "exception_at", "created_at")

    pk = graphene.Int(required=True)
    outcome = graphene.Field(PurchaseOutcome, required=True)
    unit_price = Money(required=True, description="单价 Unit price, CNY.")
    checks = graphene.List(graphene.NonNull(PurchaseCheckLine), required=True)
    matches = graphene.List(graphene.NonNull(PurchaseMatch), required=True,
                            description="Warehouse items to take instead, nearest first (as found when checked).")
    pdf_url = graphene.String(required=True, description="The document for the procurement file (PDF).")

    @classmethod
    def node_queryset(cls, info):
        return selectors.purchases_for(info.context.user)

    def resolve_checks(root, info):
        key = "message_en" if (translation.get_language() or "").startswith("en") else "message_zh"
        return [PurchaseCheckLine(check=c["check"], ok=c["ok"], code=c["code"],
                                  message=c[key]) for c in root.checks]

    def resolve_matches(root, info):
        return [PurchaseMatch(listing_id=global_id("Listing", m["listing"]), title=m["title"], agency_name=m["agency"],
                              distance_km=km(m["km"]), available=m["available"], condition=m["condition"])
                for m in root.matches]

    def resolve_pdf_url(root, info):
        return reverse("lifecycle:purchase_pdf", args=[root.pk])


class PurchaseOutcomeFilter(django_filters.FilterSet):
    outcome = EnumFilter(PurchaseOutcome)

    class Meta:
        model = PurchaseRequest
        fields = ["outcome"]


LoanStatus = domain_enum("LoanStatus", Loan.Status, "借用状态 Status of a loan.")
LoanDecision = domain_enum("LoanDecision", Loan.Decision, "借用审批 A bureau's decision on a loan.")
LoanOfferStatus = domain_enum("LoanOfferStatus", LoanOffer.Status, "出借状态 Status of a loan offer.")
LoanLight = domain_enum("LoanLight", [
    ("green", "绿灯 green"), ("yellow", "黄灯（已用三分之二期限）yellow (two thirds used)"),
    ("red", "红灯（逾期）red (overdue)")], "借用期限灯 Due light of a loan.")


class LoanOfferType(ScopedObjectType):
    class Meta:
        model = LoanOffer
        name = "LoanOffer"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "agency", "quantity", "max_days", "created_at")  # not the asset record: it is the owner's

    pk = graphene.Int(required=True)
    status = graphene.Field(LoanOfferStatus, required=True)
    description = graphene.String(required=True)
    asset_class = graphene.Field(AssetClassType, required=True)
    condition = graphene.Field(Condition, required=True)

    def resolve_description(root, info):
        return root.asset.description

    def resolve_asset_class(root, info):
        return root.asset.asset_class

    def resolve_condition(root, info):
        return root.asset.condition

    @classmethod
    def node_queryset(cls, info):
        return selectors.loan_offers_for(info.context.user)


class LoanType(ScopedObjectType):
    class Meta:
        model = Loan
        name = "Loan"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "offer", "lender", "borrower", "quantity", "days", "reason", "decision_reason", "out_at",
                  "due_at", "returned_at", "created_at", "approval_due_at")

    pk = graphene.Int(required=True)
    status = graphene.Field(LoanStatus, required=True)
    lender_decision = graphene.Field(LoanDecision, required=True)
    borrower_decision = graphene.Field(LoanDecision, required=True)
    returned_condition = graphene.Field(Condition)
    light = graphene.Field(LoanLight, description="While on loan: green, yellow, red (overdue).")
    approval_light = graphene.Field(Light, description="While the bureaus' decision is awaited: the light of its "
                                                       "working-day deadline (approvalDueAt).")
    fee = Money(description="出借费 Loan fee, CNY (once returned).")

    @classmethod
    def node_queryset(cls, info):
        return selectors.loans_for(info.context.user)

    def resolve_light(root, info):
        return root.light_at()

    def resolve_approval_light(root, info):
        return root.approval_light_at()

    def resolve_returned_condition(root, info):
        return root.returned_condition or None


class LoanFilter(django_filters.FilterSet):
    status = EnumFilter(LoanStatus)

    class Meta:
        model = Loan
        fields = ["status"]


class LoanOfferFilter(django_filters.FilterSet):
    status = EnumFilter(LoanOfferStatus)

    class Meta:
        model = LoanOffer
        fields = ["status"]


WebhookDeliveryStatus = domain_enum("WebhookDeliveryStatus", WebhookDelivery.Status,
                                    "推送状态 Status of a webhook delivery.")


class WebhookEndpointType(ScopedObjectType):
    class Meta:
        model = WebhookEndpoint
        name = "WebhookEndpoint"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "jurisdiction", "url", "events", "active", "created_at")  # never the secret

    @classmethod
    def node_queryset(cls, info):
        return selectors.webhooks_for(info.context.user)


class WebhookDeliveryType(ScopedObjectType):
    class Meta:
        model = WebhookDelivery
        name = "WebhookDelivery"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "endpoint", "event", "payload", "attempts", "last_status_code", "last_error",
                  "next_attempt_at", "delivered_at", "created_at")

    status = graphene.Field(WebhookDeliveryStatus, required=True)

    @classmethod
    def node_queryset(cls, info):
        return selectors.webhook_deliveries_for(info.context.user)


class WebhookFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter()

    class Meta:
        model = WebhookEndpoint
        fields = ["active"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = EnumFilter(WebhookDeliveryStatus)

    class Meta:
        model = WebhookDelivery
        fields = ["status"]


class Query(graphene.ObjectType):
    webhooks = PagedConnectionField(WebhookEndpointType, filterset_class=WebhookFilter,
                                    description="Webhook endpoints of the caller's jurisdictions.")
    webhook_deliveries = PagedConnectionField(WebhookDeliveryType, filterset_class=WebhookDeliveryFilter,
                                              description="The delivery log, newest first.")
    loans = PagedConnectionField(LoanType, filterset_class=LoanFilter, description="Loans the caller is party to.")
    loan_offers = PagedConnectionField(LoanOfferType, filterset_class=LoanOfferFilter,
                                       description="Assets offered for loan (open ones region-wide).")
    purchase_checks = PagedConnectionField(PurchaseCheckType, filterset_class=PurchaseOutcomeFilter,
                                           description="Purchase checks (先调剂后购置) the caller may see.")
    disposals = PagedConnectionField(DisposalType, filterset_class=DisposalFilter,
                                     description="Disposals the caller may see, newest first.")
    wants = PagedConnectionField(WantType, filterset_class=WantFilter, description="Want lists the caller may see.")
    want_matches = graphene.List(graphene.NonNull(WantMatch), required=True,
                                 description="Matches my wants: open listings matching the caller's active wants, "
                                             "nearest first (at most 200).")

    def resolve_webhooks(root, info, **kwargs):
        return selectors.webhooks_for(info.context.user)

    def resolve_webhook_deliveries(root, info, **kwargs):
        return selectors.webhook_deliveries_for(info.context.user)

    def resolve_loans(root, info, **kwargs):
        return selectors.loans_for(info.context.user)

    def resolve_loan_offers(root, info, **kwargs):
        return selectors.loan_offers_for(info.context.user)

    def resolve_purchase_checks(root, info, **kwargs):
        return selectors.purchases_for(info.context.user)

    def resolve_disposals(root, info, **kwargs):
        return selectors.disposals_for(info.context.user)

    def resolve_wants(root, info, **kwargs):
        return selectors.wants_for(info.context.user)

    def resolve_want_matches(root, info):
        return [WantMatch(want=w, listing=listing, distance_km=km(distance))
                for w, listing, distance in want_service.matches_for(info.context.user)]


def _disposal(info, value):
    found = selectors.disposals_for(info.context.user).filter(pk=decode_id(value, "Disposal", "disposalId")).first()
    if found is None:
        raise NotFound(field="disposalId")
    return found


class ProposeDisposal(DomainMutation):
    """The owning agency proposes a method. Before the class's minimum service life it is refused unless
    `damagedBeyondRepair` with a `damageNote` (财资〔2016〕27号)."""

    class Input:
        disposal_id = graphene.ID(required=True)
        method = graphene.Argument(DisposalMethod, required=True)
        reason = graphene.String(required=True)
        damaged_beyond_repair = graphene.Boolean(default_value=False)
        damage_note = graphene.String(default_value="")

    disposal = graphene.Field(DisposalType)

    @classmethod
    def perform(cls, info, disposal_id, method, **data):
        found = _disposal(info, disposal_id)
        return cls(disposal=disposals.propose(info.context.user, found, method=enum_value(method), **data))


class DecideDisposal(DomainMutation):
    """The bureau of the owning jurisdiction approves the proposal, or refuses it with a reason."""

    class Input:
        disposal_id = graphene.ID(required=True)
        approve = graphene.Boolean(required=True)
        reason = graphene.String(default_value="")

    disposal = graphene.Field(DisposalType)

    @classmethod
    def perform(cls, info, disposal_id, approve, reason):
        found = _disposal(info, disposal_id)
        return cls(disposal=disposals.decide(info.context.user, found, approve=approve, reason=reason))


class CompleteDisposal(DomainMutation):
    """Record the outcome of an approved disposal: proceeds in CNY (0 for scrapping or a donation)."""

    class Input:
        disposal_id = graphene.ID(required=True)
        proceeds = Money(required=True, description="CNY, 0 for scrapping or a donation.")
        note = graphene.String(default_value="")

    disposal = graphene.Field(DisposalType)

    @classmethod
    def perform(cls, info, disposal_id, proceeds, note):
        found = _disposal(info, disposal_id)
        return cls(disposal=disposals.complete(info.context.user, found, proceeds=proceeds, note=note))


class RecordWant(DomainMutation):
    """Record a want of an agency (defaults to the caller's agency): matching listings notify its staff."""

    class Input:
        agency_id = graphene.ID()
        asset_class_code = graphene.String(required=True, description="GB/T 14885 code")
        quantity = graphene.Int(required=True)
        min_condition = graphene.Argument(Condition, default_value="fair")
        within_km = graphene.Float(description="Empty: anywhere the agency may request from.")
        until = graphene.Date(required=True)
        reason = graphene.String(required=True)

    want = graphene.Field(WantType)

    @classmethod
    def perform(cls, info, asset_class_code, agency_id=None, min_condition="fair", **data):
        asset_class = AssetClass.objects.filter(code=asset_class_code).first()
        if asset_class is None:
            raise NotFound(field="assetClassCode")
        agency = acting_agency(info, agency_id)
        return cls(want=want_service.record_want(info.context.user, agency=agency, asset_class=asset_class,
                                                 min_condition=enum_value(min_condition),
                                                 **data))


class WithdrawWant(DomainMutation):
    class Input:
        want_id = graphene.ID(required=True)

    want = graphene.Field(WantType)

    @classmethod
    def perform(cls, info, want_id):
        found = selectors.wants_for(info.context.user).filter(pk=decode_id(want_id, "Want", "wantId")).first()
        if found is None:
            raise NotFound(field="wantId")
        return cls(want=want_service.withdraw_want(info.context.user, found))


class FilePurchaseCheck(DomainMutation):
    """Check a purchase before buying (先调剂后购置): the standard's price cap and quota per head, the minimum
    service life of the items replaced, then the warehouse within the region's search radius. The answer
    comes with its reasons, the listings to take instead and the PDF for the procurement file."""

    class Input:
        agency_id = graphene.ID(description="Defaults to the caller's agency (agency staff).")
        asset_class_code = graphene.String(required=True, description="GB/T 14885 code")
        quantity = graphene.Int(required=True)
        unit_price = Money(required=True, description="CNY per unit")
        reason = graphene.String(required=True)
        replaces_asset_ids = graphene.List(graphene.NonNull(graphene.ID), description="Asset records replaced.")
        damaged_beyond_repair = graphene.Boolean(default_value=False)
        damage_note = graphene.String(default_value="")

    purchase_check = graphene.Field(PurchaseCheckType)

    @classmethod
    def perform(cls, info, asset_class_code, agency_id=None, replaces_asset_ids=None, **data):
        asset_class = AssetClass.objects.filter(code=asset_class_code).first()
        if asset_class is None:
            raise NotFound(field="assetClassCode")
        agency = acting_agency(info, agency_id)
        replaces = [decode_id(i, "Asset", "replacesAssetIds") for i in replaces_asset_ids or []]
        return cls(purchase_check=purchases.file_purchase(info.context.user, agency=agency, asset_class=asset_class,
                                                          replaces=replaces, **data))


class GrantPurchaseException(DomainMutation):
    """A regional coordinator allows buying although the warehouse could serve the purchase."""

    class Input:
        purchase_check_id = graphene.ID(required=True)
        justification = graphene.String(required=True)

    purchase_check = graphene.Field(PurchaseCheckType)

    @classmethod
    def perform(cls, info, purchase_check_id, justification):
        found = selectors.purchases_for(info.context.user).filter(
            pk=decode_id(purchase_check_id, "PurchaseCheck", "purchaseCheckId")).first()
        if found is None:
            raise NotFound(field="purchaseCheckId")
        return cls(purchase_check=purchases.grant_exception(info.context.user, found, justification=justification))


def _loan(info, value):
    found = selectors.loans_for(info.context.user).filter(pk=decode_id(value, "Loan", "loanId")).first()
    if found is None:
        raise NotFound(field="loanId")
    return found


class OfferForLoan(DomainMutation):
    """Offer (units of) an asset for loan (出借) instead of transfer; ownership never moves."""

    class Input:
        asset_id = graphene.ID(required=True)
        quantity = graphene.Int()
        max_days = graphene.Int(default_value=30)

    offer = graphene.Field(LoanOfferType)

    @classmethod
    def perform(cls, info, asset_id, quantity=None, max_days=30):
        asset = assets_for(info.context.user).filter(pk=decode_id(asset_id, "Asset", "assetId")).first()
        if asset is None:
            raise NotFound(field="assetId")
        return cls(offer=loan_service.offer_for_loan(info.context.user, asset=asset, quantity=quantity,
                                                     max_days=max_days))


class RequestLoan(DomainMutation):
    class Input:
        offer_id = graphene.ID(required=True)
        agency_id = graphene.ID(description="Defaults to the caller's agency (agency staff).")
        quantity = graphene.Int(required=True)
        days = graphene.Int(required=True)
        reason = graphene.String(required=True)

    loan = graphene.Field(LoanType)

    @classmethod
    def perform(cls, info, offer_id, agency_id=None, **data):
        offer = selectors.loan_offers_for(info.context.user).filter(
            pk=decode_id(offer_id, "LoanOffer", "offerId")).first()
        if offer is None:
            raise NotFound(field="offerId")
        borrower = acting_agency(info, agency_id)
        return cls(loan=loan_service.request_loan(info.context.user, offer=offer, borrower=borrower, **data))


class DecideLoan(DomainMutation):
    """The lending or the borrowing bureau decides its side, in parallel; a refusal needs a reason."""

    class Input:
        loan_id = graphene.ID(required=True)
        approve = graphene.Boolean(required=True)
        reason = graphene.String(default_value="")

    loan = graphene.Field(LoanType)

    @classmethod
    def perform(cls, info, loan_id, approve, reason):
        return cls(loan=loan_service.decide_loan(info.context.user, _loan(info, loan_id), approve=approve,
                                                 reason=reason))


class ConfirmLoanHandout(DomainMutation):
    """The borrower confirms receipt: the loan period starts."""

    class Input:
        loan_id = graphene.ID(required=True)

    loan = graphene.Field(LoanType)

    @classmethod
    def perform(cls, info, loan_id):
        return cls(loan=loan_service.confirm_handout(info.context.user, _loan(info, loan_id)))


class ConfirmLoanReturn(DomainMutation):
    """The owner confirms the return with the condition; the fee is posted to the ledger."""

    class Input:
        loan_id = graphene.ID(required=True)
        condition = graphene.Argument(Condition, required=True)
        note = graphene.String(default_value="")

    loan = graphene.Field(LoanType)

    @classmethod
    def perform(cls, info, loan_id, condition, note):
        return cls(loan=loan_service.confirm_return(info.context.user, _loan(info, loan_id),
                                                    condition=enum_value(condition), note=note))


class RegisterWebhook(DomainMutation):
    """Register an HTTPS endpoint of a member city's system for the events of a jurisdiction. Deliveries are
    signed `X-Gongwucang-Signature: sha256=<HMAC-SHA256 of the body under the secret>`; the secret is shown
    only in this payload."""

    class Input:
        jurisdiction_code = graphene.String(required=True, description="GB/T 2260 division code")
        url = graphene.String(required=True)
        events = graphene.List(graphene.NonNull(graphene.String), description="Audit actions; empty: all.")
        secret = graphene.String(description="At least 16 characters; generated when omitted.")

    webhook = graphene.Field(WebhookEndpointType)
    secret = graphene.String()

    @classmethod
    def perform(cls, info, jurisdiction_code, url, events=None, secret=None):
        jurisdiction = Jurisdiction.objects.filter(code=jurisdiction_code).first()
        if jurisdiction is None:
            raise NotFound(field="jurisdictionCode")
        endpoint, secret = webhooks.register(info.context.user, jurisdiction=jurisdiction, url=url,
                                             events=events or (), secret=secret)
        return cls(webhook=endpoint, secret=secret)


class TestWebhook(DomainMutation):
    """POST a signed `ping` to the endpoint now and report what it answered."""

    class Input:
        webhook_id = graphene.ID(required=True)

    status_code = graphene.Int(description="The receiver's HTTP status; null when it could not be reached.")
    error = graphene.String()

    @classmethod
    def perform(cls, info, webhook_id):
        found = selectors.webhooks_for(info.context.user).filter(
            pk=decode_id(webhook_id, "WebhookEndpoint", "webhookId")).first()
        if found is None:
            raise NotFound(field="webhookId")
        code, error = webhooks.send_test(info.context.user, found)
        return cls(status_code=code, error=error)


class Mutation(graphene.ObjectType):
    register_webhook = RegisterWebhook.Field()
    test_webhook = TestWebhook.Field()
    offer_for_loan = OfferForLoan.Field()
    request_loan = RequestLoan.Field()
    decide_loan = DecideLoan.Field()
    confirm_loan_handout = ConfirmLoanHandout.Field()
    confirm_loan_return = ConfirmLoanReturn.Field()
    file_purchase_check = FilePurchaseCheck.Field()
    grant_purchase_exception = GrantPurchaseException.Field()
    record_want = RecordWant.Field()
    withdraw_want = WithdrawWant.Field()
    propose_disposal = ProposeDisposal.Field()
    decide_disposal = DecideDisposal.Field()
    complete_disposal = CompleteDisposal.Field()
