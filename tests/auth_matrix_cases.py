"""The authorization matrix: for every GraphQL mutation, one role that may run it and one that may not.

Add a row per mutation: `CASES["mutationName"] = builder`, where `builder(world)` gets the `region_world`
fixture (plus `world["standard_set"]`, a set in force) and returns `(query, variables, allowed_user,
refused_user)`. The refused user must get a `permission_denied`/`not_authenticated` typed error and change
nothing; the allowed user must not be refused. `tests/test_auth_matrix.py` fails, listing the missing
names, when a mutation of `config.schema.schema` has no row.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tests.conftest import OPERATIONS
from tests.factories import gid


def op(name):
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


def create_api_token(world):
    u = world["users"]
    return (op("TokenCreate"), {"input": {"jurisdictionCode": "310000", "name": "erp"}}, u["bureau_a"],
            u["bureau_b"])


def revoke_api_token(world):
    from regions.services import tokens

    u = world["users"]
    with transaction.atomic():
        token, _ = tokens.create_token(u["bureau_a"], world["city_a"], name="erp")
    return op("TokenRevoke"), {"input": {"tokenId": gid(token)}}, u["bureau_a"], u["coordinator"]


def create_standard_version(world):
    u = world["users"]
    on = (timezone.localdate() + timedelta(days=10)).isoformat()
    return (op("StandardsCreateVersion"), {"input": {"regionCode": world["region"].code, "effectiveFrom": on}},
            u["coordinator"], u["auditor"])


def edit_future_standard(world):
    from regions.models import StandardSet

    u = world["users"]
    future = StandardSet.objects.create(region=world["region"], title="future",
                                        effective_from=timezone.localdate() + timedelta(days=10))
    return (op("StandardsEditFuture"), {"input": {"standardSetId": gid(future),
                                                  "fields": {"handlingFee": "300.00"}}},
            u["coordinator"], u["bureau_a"])


def register_asset(world):
    u = world["users"]
    from tests import factories as f

    f.AssetClassFactory()
    return (op("RegisterAsset"), {"input": {
        "agencyId": gid(world["agency_a"]), "assetClassCode": "2010104", "description": "台式机",
        "originalValue": str(Decimal("4500.00")), "acquiredOn": "2018-01-01"}}, u["staff_a"], u["staff_b"])


CASES = {
    "createApiToken": create_api_token,
    "revokeApiToken": revoke_api_token,
    "createStandardVersion": create_standard_version,
    "editFutureStandard": edit_future_standard,
    "registerAsset": register_asset,
}


def _listed_asset(world):
    """An asset of agency A listed through the service (needs the world's standard set)."""
    from exchange.services import items
    from tests import factories as f

    asset = f.AssetFactory(agency=world["agency_a"])
    with transaction.atomic():
        return items.mark_idle(world["users"]["staff_a"], asset=asset)


def mark_idle(world):
    from tests import factories as f

    u = world["users"]
    asset = f.AssetFactory(agency=world["agency_a"])
    return op("ListingOpen"), {"input": {"assetId": gid(asset)}}, u["staff_a"], u["auditor"]


def register_office_space(world):
    u = world["users"]
    query = """mutation($input: RegisterOfficeSpaceInput!) { registerOfficeSpace(input: $input) {
      errors { field code message } officeSpace { id } } }"""
    return (query, {"input": {"agencyId": gid(world["agency_a"]), "building": "1号楼", "floor": "3",
                              "rooms": "301", "areaM2": "40.00", "availableFrom": "2026-01-01"}},
            u["bureau_a"], u["staff_b"])


def add_asset_photo(world):
    import base64

    from tests import factories as f

    u = world["users"]
    asset = f.AssetFactory(agency=world["agency_a"])
    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005"
        "0001ffa9e2c2a30000000049454e44ae426082")).decode()
    query = """mutation($input: AddAssetPhotoInput!) {
      addAssetPhoto(input: $input) { errors { field code message } } }"""
    return (query, {"input": {"assetId": gid(asset), "filename": "a.png", "contentBase64": png}},
            u["staff_a"], u["auditor"])


def withdraw_listing(world):
    u = world["users"]
    listing = _listed_asset(world)
    query = """mutation($input: WithdrawListingInput!) { withdrawListing(input: $input) {
      errors { field code message } listing { id status } } }"""
    return query, {"input": {"listingId": gid(listing), "reason": "自用"}}, u["staff_a"], u["auditor"]


def edit_listing(world):
    u = world["users"]
    listing = _listed_asset(world)
    return (op("ListingEdit"), {"input": {"listingId": gid(listing), "description": "联想台式机（已核对）",
                                          "condition": "FAIR"}}, u["staff_a"], u["auditor"])


CASES.update({
    "editListing": edit_listing,
    "markIdle": mark_idle,
    "registerOfficeSpace": register_office_space,
    "addAssetPhoto": add_asset_photo,
    "withdrawListing": withdraw_listing,
})


# --- the transfer lifecycle: requests, allocation, approvals, cancellation, handover -----------------
def _mode(world, mode):
    """Switch the world's standard set (in force) to another allocation mode."""
    from regions.models import StandardSet

    StandardSet.objects.filter(pk=world["standard_set"].pk).update(allocation_mode=mode)


def _windows(listing, *, region_closed=False):
    """Close a listing's own-jurisdiction screening window (and, if asked, the regional one too)."""
    from exchange.models import Listing

    now = timezone.now()
    region = now - timedelta(minutes=1) if region_closed else now + timedelta(days=7)
    Listing.objects.filter(pk=listing.pk).update(own_window_ends_at=now - timedelta(days=2),
                                                 region_window_ends_at=region)
    listing.refresh_from_db()
    return listing


def _regional_listing(world):
    """A listing of agency A open to the whole region (its own-jurisdiction window has closed)."""
    return _windows(_listed_asset(world))


def _request(world, listing):
    """Agency B's request for the listing, by staff_b: (request, transfer or None)."""
    from exchange.services import transfer_requests

    with transaction.atomic():
        return transfer_requests.create_request(world["users"]["staff_b"], listing=listing, agency=world["agency_b"],
                                                quantity=1, justification="新入职人员办公需要")


def _transfer(world, *, approved=False):
    """A first-come transfer A → B awaiting its giving and receiving bureaus' approvals (or handover)."""
    from exchange.services import approvals

    _, transfer = _request(world, _regional_listing(world))
    if approved:
        deciders = {"giving_bureau": "bureau_a", "receiving_bureau": "bureau_b", "coordinator": "coordinator"}
        for step in transfer.steps.all():
            with transaction.atomic():
                approvals.decide_step(world["users"][deciders[step.kind]], step, approve=True)
        transfer.refresh_from_db()
    return transfer


def request_listing(world):
    # the giver's staff may see the listing but may not request on behalf of agency B
    u = world["users"]
    listing = _regional_listing(world)
    return (op("RequestListing"), {"input": {"listingId": gid(listing), "agencyId": gid(world["agency_b"]),
                                             "quantity": 1, "justification": "新入职人员办公需要"}},
            u["staff_b"], u["staff_a"])


def withdraw_request(world):
    # the giver's staff sees the request on its listing, but only the requesting side may withdraw it
    from regions.models import AllocationMode

    u = world["users"]
    _mode(world, AllocationMode.WINDOW_CLOSE)
    request, _ = _request(world, _regional_listing(world))
    query = """mutation($input: WithdrawRequestInput!) { withdrawRequest(input: $input) {
      errors { field code message } request { id status } } }"""
    return query, {"input": {"requestId": gid(request), "reason": "不再需要"}}, u["staff_b"], u["staff_a"]


def allocate_listing(world):
    # the listing's own staff sees it, but allocation is run by its bureau (or the coordinator)
    from regions.models import AllocationMode

    u = world["users"]
    _mode(world, AllocationMode.WINDOW_CLOSE)
    listing = _regional_listing(world)
    _request(world, listing)
    listing = _windows(listing, region_closed=True)
    return op("ListingAllocate"), {"input": {"listingId": gid(listing)}}, u["bureau_a"], u["staff_a"]


def decide_approval(world):
    # the receiving bureau sees the giving bureau's step but may not decide it
    u = world["users"]
    step = _transfer(world).steps.get(kind="giving_bureau")
    return (op("DecideApproval"), {"input": {"stepId": gid(step), "approve": True}}, u["bureau_a"],
            u["bureau_b"])


def cancel_transfer(world):
    u = world["users"]
    transfer = _transfer(world)
    return (op("TransferCancel"), {"input": {"transferId": gid(transfer), "reason": "自用"}}, u["staff_b"],
            u["auditor"])


def confirm_handover(world):
    # the giver's staff sees the transfer but only the receiving agency confirms receipt
    u = world["users"]
    transfer = _transfer(world, approved=True)
    return (op("ConfirmHandover"), {"input": {"transferId": gid(transfer), "receivedQuantity": 1,
                                              "receivedCondition": "GOOD"}}, u["staff_b"], u["staff_a"])


def end_occupancy(world):
    # the occupant ends its use of the space; the auditor sees it but never writes
    from exchange.services import approvals, handover, items, transfer_requests

    u = world["users"]
    with transaction.atomic():
        space = items.register_office_space(u["staff_a"], agency=world["agency_a"], building="B", floor="1",
                                            rooms="101", area_m2=Decimal("20.00"),
                                            available_from=timezone.localdate() - timedelta(days=30))
        listing = items.mark_idle(u["staff_a"], office_space=space)
        from exchange.models import Listing

        Listing.objects.filter(pk=listing.pk).update(own_window_ends_at=timezone.now())
        listing.refresh_from_db()
        _, transfer = transfer_requests.create_request(
            u["staff_b"], listing=listing, agency=world["agency_b"], quantity=1, justification="办公",
            exception_requested=True, exception_justification="测试")
        deciders = {"giving_bureau": "bureau_a", "receiving_bureau": "bureau_b", "coordinator": "coordinator"}
        for step in transfer.steps.all():
            approvals.decide_step(u[deciders[step.kind]], step, approve=True)
        transfer.refresh_from_db()
        handover.confirm_handover(u["staff_b"], transfer, received_quantity=1, received_condition="good")
    transfer.refresh_from_db()
    return (op("OccupancyEnd"), {"input": {"occupancyId": gid(transfer.occupancy),
                                           "lastDay": timezone.localdate().isoformat()}}, u["staff_b"], u["auditor"])


def import_assets(world):
    # the other agency's staff may not import into agency A
    from tests import factories as f

    u = world["users"]
    f.AssetClassFactory()
    text = ("asset_class,description,quantity,unit,original_value,acquired_on,condition,lon,lat\n"
            "2010104,联想台式机,1,台,4500.00,2019-03-01,good,121.47,31.23\n")
    return (op("ImportAssets"), {"input": {"agencyId": gid(world["agency_a"]), "text": text}}, u["staff_a"],
            u["staff_b"])


CASES.update({
    "requestListing": request_listing,
    "withdrawRequest": withdraw_request,
    "allocateListing": allocate_listing,
    "decideApproval": decide_approval,
    "cancelTransfer": cancel_transfer,
    "confirmHandover": confirm_handover,
    "endOccupancy": end_occupancy,
    "importAssets": import_assets,
})


# --- reports --------------------------------------------------------------------------------------
def request_report(world):
    # a jurisdiction's report: its own bureau may request it, the neighbouring bureau may not
    u = world["users"]
    return (op("ReportRequest"), {"kind": "ALLOCATION_REPORT", "jurisdictionCode": "310000"}, u["bureau_a"],
            u["bureau_b"])


def retry_report(world):
    # the requester still sees the job it requested, but once its bureau binding is gone it may not retry it
    from reports.models import ReportJob
    from tests import factories as f

    u = world["users"]
    former = f.UserFactory(username="former_bureau_a")
    job = ReportJob.objects.create(kind="allocation_report", parameters={}, requested_by=former,
                                   region=world["region"], jurisdiction=world["city_a"],
                                   status=ReportJob.Status.FAILED, error="RuntimeError: disk on fire")
    return op("ReportRetry"), {"jobId": gid(job)}, u["bureau_a"], former


CASES.update({
    "requestReport": request_report,
    "retryReport": retry_report,
})


# --- ledger settlement (coordinator only) ---------------------------------------------------------
def _settlement_period(world):
    """The open settlement period (March 2026) with one compensation posting B → A in it."""
    from ledger.models import SettlementPeriod
    from ledger.services import posting

    region = world["region"]
    a = posting.compensation_account(region, world["city_a"])
    b = posting.compensation_account(region, world["city_b"])
    posting.post(region, on=date(2026, 3, 5), kind="compensation", description="t",
                 key="matrix", legs=[(b, "debit", Decimal("1200.00")), (a, "credit", Decimal("1200.00"))])
    return SettlementPeriod.objects.get(region=region)


def close_settlement_period(world):
    u = world["users"]
    period = _settlement_period(world)
    return op("SettlementClose"), {"periodId": gid(period)}, u["coordinator"], u["auditor"]


def confirm_settlement_payment(world):
    from ledger.services import settlement

    u = world["users"]
    with transaction.atomic():
        period = settlement.close_period(u["coordinator"], _settlement_period(world))
    instruction = period.instructions.get()
    return (op("SettlementConfirmPayment"), {"instructionId": gid(instruction)}, u["coordinator"],
            u["bureau_b"])


def set_settling_level(world):
    u = world["users"]
    on = (timezone.localdate() + timedelta(days=30)).isoformat()
    return (op("SettlingLevelSet"), {"input": {"regionCode": world["region"].code, "level": "PROVINCE",
                                               "effectiveFrom": on}}, u["coordinator"], u["bureau_a"])


CASES.update({
    "closeSettlementPeriod": close_settlement_period,
    "confirmSettlementPayment": confirm_settlement_payment,
    "setSettlingLevel": set_settling_level,
})


# --- lifecycle (issue 19): inbox, disposal, wants, purchase checks, loans, webhooks -----------------------
def mark_notifications_read(world):
    from notifications.services import notify

    u = world["users"]
    note = notify([u["staff_a"]], "loan_due", key="matrix")[0]
    return (op("NotificationsMarkRead"), {"input": {"ids": [gid(note)]}}, u["staff_a"], u["staff_b"])


def _disposal(world, status="awaiting_proposal"):
    from lifecycle.models import Disposal
    from lifecycle.services import disposal as disposals

    listing = _listed_asset(world)
    with transaction.atomic():
        disposals.open_disposals(now=listing.region_window_ends_at + timedelta(minutes=1))
    found = Disposal.objects.get(listing=listing)
    Disposal.objects.filter(pk=found.pk).update(status=status, method="auction" if status != "awaiting_proposal"
                                                else "")
    return found


def propose_disposal(world):
    u = world["users"]
    d = _disposal(world)
    return (op("DisposalPropose"), {"input": {"disposalId": gid(d), "method": "SCRAP", "reason": "报废",
                                              "damagedBeyondRepair": True, "damageNote": "无法修复"}},
            u["staff_a"], u["auditor"])


def decide_disposal(world):
    u = world["users"]
    d = _disposal(world, "proposed")
    return op("DisposalDecide"), {"input": {"disposalId": gid(d), "approve": True}}, u["bureau_a"], u["staff_a"]


def complete_disposal(world):
    u = world["users"]
    d = _disposal(world, "approved")
    return (op("DisposalComplete"), {"input": {"disposalId": gid(d), "proceeds": "100.00"}}, u["staff_a"],
            u["coordinator"])


def record_want(world):
    from tests import factories as f

    u = world["users"]
    f.AssetClassFactory()
    return (op("WantRecord"), {"input": {"agencyId": gid(world["agency_b"]), "assetClassCode": "2010104",
                                         "quantity": 2, "until": "2099-12-31", "reason": "新增编制"}},
            u["staff_b"], u["staff_a"])


def withdraw_want(world):
    from exchange.models import AssetClass
    from lifecycle.services import wants
    from tests import factories as f

    u = world["users"]
    f.AssetClassFactory()
    with transaction.atomic():
        want = wants.record_want(u["staff_b"], agency=world["agency_b"], asset_class=AssetClass.objects.get(),
                                 quantity=1, until=date(2099, 1, 1), reason="需要")
    return op("WantWithdraw"), {"input": {"wantId": gid(want)}}, u["staff_b"], u["auditor"]


def file_purchase_check(world):
    from tests import factories as f

    u = world["users"]
    f.AssetClassFactory()
    return (op("PurchaseCheckFile"), {"input": {"agencyId": gid(world["agency_b"]), "assetClassCode": "2010104",
                                                "quantity": 1, "unitPrice": "4500.00", "reason": "新增编制"}},
            u["staff_b"], u["staff_a"])


def grant_purchase_exception(world):
    from exchange.models import AssetClass
    from lifecycle.models import PurchaseRequest
    from lifecycle.services import purchases
    from tests import factories as f

    u = world["users"]
    f.AssetClassFactory()
    with transaction.atomic():
        check = purchases.file_purchase(u["staff_b"], agency=world["agency_b"], asset_class=AssetClass.objects.get(),
                                        quantity=1, unit_price="4500.00", reason="新增编制")
    PurchaseRequest.objects.filter(pk=check.pk).update(outcome="take_instead")
    return (op("PurchaseExceptionGrant"), {"input": {"purchaseCheckId": gid(check), "justification": "涉密"}},
            u["coordinator"], u["bureau_b"])


def _loan(world, status=None):
    from lifecycle.models import Loan
    from lifecycle.services import loans
    from tests import factories as f

    u = world["users"]
    with transaction.atomic():
        offer = loans.offer_for_loan(u["staff_a"], asset=f.AssetFactory(agency=world["agency_a"]))
        loan = loans.request_loan(u["staff_b"], offer=offer, borrower=world["agency_b"], quantity=1, days=5,
                                  reason="借用")
    if status == "approved":
        Loan.objects.filter(pk=loan.pk).update(status="approved", lender_decision="approved",
                                               borrower_decision="approved")
    elif status == "out":
        now = timezone.now()
        Loan.objects.filter(pk=loan.pk).update(status="out", out_at=now, yellow_at=now + timedelta(days=3),
                                               due_at=now + timedelta(days=5))
    return offer, loan


def offer_for_loan(world):
    from tests import factories as f

    u = world["users"]
    asset = f.AssetFactory(agency=world["agency_a"])
    return op("LoanOffer"), {"input": {"assetId": gid(asset), "maxDays": 10}}, u["staff_a"], u["auditor"]


def request_loan(world):
    u = world["users"]
    offer, _loan_ = _loan(world)
    return (op("LoanRequest"), {"input": {"offerId": gid(offer), "agencyId": gid(world["agency_b"]),
                                          "quantity": 1, "days": 3, "reason": "借用"}}, u["staff_b"], u["auditor"])


def decide_loan(world):
    u = world["users"]
    _offer, loan = _loan(world)
    return op("LoanDecide"), {"input": {"loanId": gid(loan), "approve": True}}, u["bureau_a"], u["staff_b"]


def confirm_loan_handout(world):
    u = world["users"]
    _offer, loan = _loan(world, "approved")
    return op("LoanHandout"), {"input": {"loanId": gid(loan)}}, u["staff_b"], u["staff_a"]


def confirm_loan_return(world):
    u = world["users"]
    _offer, loan = _loan(world, "out")
    return op("LoanReturn"), {"input": {"loanId": gid(loan), "condition": "GOOD"}}, u["staff_a"], u["staff_b"]


def register_webhook(world):
    u = world["users"]
    return (op("WebhookRegister"), {"input": {"jurisdictionCode": "310000", "url": "https://city.example/hook"}},
            u["bureau_a"], u["bureau_b"])


def test_webhook(world):
    from lifecycle.services import webhooks

    u = world["users"]
    with transaction.atomic():
        endpoint, _secret = webhooks.register(u["bureau_a"], jurisdiction=world["city_a"],
                                              url="https://127.0.0.1:9/unreachable")
    return op("WebhookTest"), {"input": {"webhookId": gid(endpoint)}}, u["bureau_a"], u["coordinator"]


CASES.update({
    "markNotificationsRead": mark_notifications_read,
    "registerWebhook": register_webhook,
    "testWebhook": test_webhook,
    "offerForLoan": offer_for_loan,
    "requestLoan": request_loan,
    "decideLoan": decide_loan,
    "confirmLoanHandout": confirm_loan_handout,
    "confirmLoanReturn": confirm_loan_return,
    "filePurchaseCheck": file_purchase_check,
    "grantPurchaseException": grant_purchase_exception,
    "recordWant": record_want,
    "withdrawWant": withdraw_want,
    "proposeDisposal": propose_disposal,
    "decideDisposal": decide_disposal,
    "completeDisposal": complete_disposal,
})


# --- delegation (regions.services.roles) -------------------------------------------------------------
def grant_role(world):
    from tests import factories as f

    u = world["users"]
    f.UserFactory(username="newcomer")
    return (op("RoleGrant"), {"input": {"username": "newcomer", "role": "AGENCY_STAFF",
                                        "agencyCode": world["agency_a"].code, "reason": "新到岗资产管理员"}},
            u["bureau_a"], u["bureau_b"])


def revoke_role(world):
    from regions.models import RoleBinding

    u = world["users"]
    binding = RoleBinding.objects.get(user=u["staff_a"])
    # staff_a sees its own binding but may not revoke it (another city's bureau gets not_found)
    return (op("RoleRevoke"), {"input": {"roleBindingId": gid(binding), "reason": "调离岗位"}},
            u["bureau_a"], u["staff_a"])


CASES.update({
    "grantRole": grant_role,
    "revokeRole": revoke_role,
})


# --- performance evaluation (evaluation.services) -----------------------------------------------------
def _ended_quarter(world):
    from evaluation import indicators, services

    period = services.last_ended_cycle("quarter", timezone.localdate())
    indicators.seed(world["region"], period[0])
    return period


def _frozen(world):
    from evaluation import services

    with transaction.atomic():
        return services.freeze(world["region"], *_ended_quarter(world))


def freeze_evaluation(world):
    u = world["users"]
    period_from, period_to = _ended_quarter(world)
    return (op("EvaluationFreeze"), {"input": {"regionCode": world["region"].code,
                                               "periodFrom": period_from.isoformat(),
                                               "periodTo": period_to.isoformat()}}, u["coordinator"], u["bureau_a"])


def publish_evaluation(world):
    u = world["users"]
    return (op("EvaluationPublish"), {"input": {"evaluationId": gid(_frozen(world))}}, u["coordinator"],
            u["bureau_a"])


def file_objection(world):
    u = world["users"]
    return (op("ObjectionFile"), {"input": {"evaluationId": gid(_frozen(world)), "jurisdictionCode": "310000",
                                            "reason": "本期调入数据有遗漏"}}, u["bureau_a"], u["bureau_b"])


def decide_objection(world):
    from evaluation import services

    u = world["users"]
    evaluation = _frozen(world)
    with transaction.atomic():
        objection = services.file_objection(u["bureau_a"], evaluation, world["city_a"], "本期调入数据有遗漏")
    return (op("ObjectionDecide"), {"input": {"objectionId": gid(objection), "upheld": False,
                                              "reason": "经核实数据无误"}}, u["coordinator"], u["bureau_a"])


def grant_evaluator(world):
    from tests import factories as f

    u = world["users"]
    f.UserFactory(username="third_party")
    period_from, period_to = _ended_quarter(world)
    return (op("EvaluatorGrant"), {"input": {
        "username": "third_party", "regionCode": world["region"].code, "periodFrom": period_from.isoformat(),
        "periodTo": period_to.isoformat(), "validUntil": (timezone.now() + timedelta(days=30)).isoformat(),
        "reason": "第三方评估机构"}}, u["coordinator"], u["bureau_a"])


def revoke_evaluator(world):
    from evaluation import services
    from tests import factories as f

    u = world["users"]
    evaluator = f.UserFactory(username="third_party")
    period_from, period_to = _ended_quarter(world)
    services.grant_evaluator(u["coordinator"], evaluator, world["region"], period_from, period_to,
                             timezone.now() + timedelta(days=30), "第三方评估机构")
    return (op("EvaluatorRevoke"), {"input": {
        "username": "third_party", "regionCode": world["region"].code, "periodFrom": period_from.isoformat(),
        "periodTo": period_to.isoformat(), "reason": "评估结束"}}, u["coordinator"], u["bureau_a"])


CASES.update({
    "freezeEvaluation": freeze_evaluation,
    "publishEvaluation": publish_evaluation,
    "fileObjection": file_objection,
    "decideObjection": decide_objection,
    "grantEvaluator": grant_evaluator,
    "revokeEvaluator": revoke_evaluator,
})


# --- access requests (regions.services.access) ---------------------------------------------------------
def request_access(world):
    u = world["users"]
    # the Beijing bureau manager belongs to no region of Shanghai's: it asks its own region instead
    return (op("AccessRequest"), {"input": {"role": "DEPUTY_BUREAU_MANAGER", "jurisdictionCode": "310000",
                                            "reason": "分管资产处"}}, u["staff_a"], u["outsider"])


def _pending_access_request(world):
    from regions.services import access
    from tests import factories as f

    newcomer = f.UserFactory(username="newcomer")
    with transaction.atomic():
        return newcomer, access.request_access(newcomer, role="agency_staff", agency=world["agency_a"],
                                               reason="新到岗")


def decide_access_request(world):
    u = world["users"]
    _newcomer, request = _pending_access_request(world)
    # staff_a sees requests for its agency but may not grant roles
    return (op("AccessDecide"), {"input": {"accessRequestId": gid(request), "grant": True, "reason": "同意"}},
            u["bureau_a"], u["staff_a"])


def withdraw_access_request(world):
    newcomer, request = _pending_access_request(world)
    return (op("AccessWithdraw"), {"input": {"accessRequestId": gid(request)}}, newcomer,
            world["users"]["bureau_a"])


CASES.update({
    "requestAccess": request_access,
    "decideAccessRequest": decide_access_request,
    "withdrawAccessRequest": withdraw_access_request,
})


# --- emergency stop (regions.services.emergency) -------------------------------------------------------
def stop_jurisdiction(world):
    u = world["users"]
    return (op("EmergencyStop"), {"input": {"jurisdictionCode": "310000", "reason": "令牌疑似泄露"}},
            u["coordinator"], u["bureau_b"])


def lift_emergency_stop(world):
    from regions.services import emergency

    u = world["users"]
    with transaction.atomic():
        stop = emergency.stop_jurisdiction(u["coordinator"], world["city_a"], reason="令牌疑似泄露")
    return (op("EmergencyLift"), {"input": {"stopId": gid(stop), "reason": "已更换密钥"}}, u["coordinator"],
            u["auditor"])


CASES.update({
    "stopJurisdiction": stop_jurisdiction,
    "liftEmergencyStop": lift_emergency_stop,
})


# --- separation of duties: refused whatever the refused person's roles allow ----------------------
# Each builder returns (query, variables, allowed_user, refused_user) like a CASES row; the refused user holds
# every role the step needs and is refused only because of what they already did on the same transfer.
def _decide(step):
    return op("DecideApproval"), {"input": {"stepId": gid(step), "approve": True}}


def _second_person(world, name, role, scope):
    from tests import factories as f

    world["users"][name] = f.user_with_role(role, world[scope], name)
    return world["users"][name]


def second_step_by_one_person(world):
    # a bureau over both cities (like a provincial bureau over two of its cities) decided the giving step; it
    # may not decide the receiving one as well
    from exchange.services import approvals
    from regions.models import RoleBinding

    both = _second_person(world, "bureau_both", "bureau_manager", "city_a")
    RoleBinding.objects.create(user=both, role="bureau_manager", jurisdiction=world["city_b"])
    transfer = _transfer(world)
    with transaction.atomic():
        approvals.decide_step(both, transfer.steps.get(kind="giving_bureau"), approve=True)
    return (*_decide(transfer.steps.get(kind="receiving_bureau")), world["users"]["bureau_b"], both)


def requester_approves_own_request(world):
    # B's bureau manager made the request itself; B's deputy (another person) approves it
    from exchange.services import transfer_requests

    deputy = _second_person(world, "deputy_b", "deputy_bureau_manager", "city_b")
    with transaction.atomic():
        _, transfer = transfer_requests.create_request(
            world["users"]["bureau_b"], listing=_regional_listing(world), agency=world["agency_b"], quantity=1,
            justification="新入职人员办公需要")
    return (*_decide(transfer.steps.get(kind="receiving_bureau")), deputy, world["users"]["bureau_b"])


def lister_approves_own_listing(world):
    # A's bureau manager listed the item itself; A's deputy approves its release
    from exchange.services import items
    from tests import factories as f

    deputy = _second_person(world, "deputy_a", "deputy_bureau_manager", "city_a")
    with transaction.atomic():
        listing = items.mark_idle(world["users"]["bureau_a"], asset=f.AssetFactory(agency=world["agency_a"]))
    _, transfer = _request(world, _windows(listing))
    return (*_decide(transfer.steps.get(kind="giving_bureau")), deputy, world["users"]["bureau_a"])


DUTY_CASES = {
    "decideApproval: a second step of the same transfer": second_step_by_one_person,
    "decideApproval: the requester's own request": requester_approves_own_request,
    "decideApproval: the lister's own listing": lister_approves_own_listing,
}


# --- accountability at every stage (regions.services.duties) -------------------------------------------
def claim_stage(world):
    # the receiving bureau sees the giving bureau's step but may not take it on
    u = world["users"]
    step = _transfer(world).steps.get(kind="giving_bureau")
    return op("StageClaim"), {"input": {"id": gid(step)}}, u["bureau_a"], u["bureau_b"]


def assign_stage(world):
    u = world["users"]
    step = _transfer(world).steps.get(kind="receiving_bureau")
    return (op("StageAssign"), {"input": {"id": gid(step), "username": "bureau_b", "reason": "本人负责"}},
            u["coordinator"], u["staff_b"])


CASES.update({
    "claimStage": claim_stage,
    "assignStage": assign_stage,
})
