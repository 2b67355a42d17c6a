"""The reads matrix: for every Node type of the schema, one object of jurisdiction A (Shanghai) and who may see
it. `tests/test_reads_matrix.py` asserts, for every principal below, that `node(id:)` returns the object
exactly when the principal is in the row's `sees`, and that the object's global ID never appears anywhere in
the answer of any root field (lists, connections and every nested path, to depth 3) for those not in it.
It fails, naming the type, when a Node type has no row here; and when a root field that needs arguments
has none in ROOT_ARGS.

Principals: A's agency staff and bureau (the owner), B's (Hangzhou: the receiving side of A's transfer,
the counterparty), the region's coordinator and auditor; and those who must see nothing of A's: anonymous,
read and write tokens of Nanjing (a third member city), Nanjing's bureau manager and agency staff, a
bureau manager outside the region (Beijing) and a token of Beijing (which sees only public reference data).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from graphene.relay import Node

OWNER = {"staff_a", "bureau_a"}
COUNTERPARTY = {"staff_b", "bureau_b"}
REGION_ROLES = {"coordinator", "auditor"}
BYSTANDERS = {"token_nj_read", "token_nj_write", "bureau_nj", "staff_nj"}
OUTSIDE = {"anonymous", "outsider", "token_outsider"}
PRINCIPALS = OWNER | COUNTERPARTY | REGION_ROLES | BYSTANDERS | OUTSIDE
SIGNED_IN = PRINCIPALS - {"anonymous"}
REGION_MEMBERS = SIGNED_IN - {"outsider", "token_outsider"}


@dataclass(frozen=True)
class Row:
    obj: str  # key of the object in the matrix world
    sees: frozenset
    why: str = ""


ROWS = {
    # public reference data (see tests/test_schema_scoped.py PUBLIC)
    "Region": Row("region", frozenset(SIGNED_IN), "public reference data"),
    "Jurisdiction": Row("city_a", frozenset(SIGNED_IN), "public reference data"),
    "Agency": Row("agency_a", frozenset(SIGNED_IN), "public agency directory"),
    "AssetClass": Row("asset_class", frozenset(SIGNED_IN), "GB/T 14885, public"),
    # region-wide: the region's standards and settlement calendar, for its members
    "StandardSet": Row("standard_set", frozenset(REGION_MEMBERS), "the region's published standards"),
    "SettlementPeriod": Row("period", frozenset(REGION_MEMBERS), "the region's settlement calendar"),
    # A's own data
    "Asset": Row("asset", frozenset(OWNER | REGION_ROLES)),
    "OfficeSpace": Row("office_space", frozenset(OWNER | REGION_ROLES)),
    "Listing": Row("own_window_listing", frozenset(OWNER | REGION_ROLES), "in A's own screening window"),
    "ImportJob": Row("import_job", frozenset(OWNER | REGION_ROLES)),
    "ReportJob": Row("report_job", frozenset({"bureau_a"} | REGION_ROLES), "A's allocation report"),
    "ApiToken": Row("api_token", frozenset({"bureau_a"}), "only the jurisdiction's bureau managers"),
    "LedgerAccount": Row("account_a", frozenset({"bureau_a"} | REGION_ROLES)),
    "LedgerLeg": Row("leg_a", frozenset({"bureau_a"} | REGION_ROLES)),
    # the transfer A → B: both parties, the coordinator and the auditor
    "TransferRequest": Row("request", frozenset(OWNER | COUNTERPARTY | REGION_ROLES)),
    "Transfer": Row("transfer", frozenset(OWNER | COUNTERPARTY | REGION_ROLES)),
    "ApprovalStep": Row("step", frozenset(OWNER | COUNTERPARTY | REGION_ROLES)),
    "CompensationBreakdown": Row("breakdown", frozenset(OWNER | COUNTERPARTY | REGION_ROLES),
                                 "the settling bureaus and the two agencies of the transfer"),
    "Occupancy": Row("occupancy", frozenset(OWNER | COUNTERPARTY | REGION_ROLES),
                     "A's office space occupied by B: owner and occupant"),
    "AuditEvent": Row("event", frozenset(OWNER | COUNTERPARTY | REGION_ROLES), "the transfer's trail"),
    "PaymentInstruction": Row("instruction", frozenset({"bureau_a", "bureau_b"} | REGION_ROLES)),
    "RoleBinding": Row("role_binding", frozenset({"bureau_a"} | REGION_ROLES), "A's bureau manager role"),
    # the region's performance evaluation; an objection is the objecting unit's
    "IndicatorSet": Row("indicator_set", frozenset(REGION_MEMBERS), "the region's indicator system"),
    "Evaluation": Row("evaluation", frozenset(REGION_MEMBERS), "region data (published summaries are public)"),
    "Objection": Row("objection", frozenset({"bureau_a"} | REGION_ROLES), "A's objection"),
    "AccessRequest": Row("access_request", frozenset(OWNER | REGION_ROLES), "a newcomer asks for a role in A"),
    "EmergencyStop": Row("emergency_stop", frozenset({"bureau_a"} | REGION_ROLES), "A's (lifted) emergency stop"),
    # a person's inbox
    "Notification": Row("notification", frozenset({"bureau_a"}), "the recipient only"),
    # the lifecycle around transfers (issue 19): A's disposal, want and purchase check; A's loan offer (open:
    # the region's members see it) and its loan to B
    "Disposal": Row("disposal", frozenset(OWNER | REGION_ROLES)),
    "Want": Row("want", frozenset(OWNER | REGION_ROLES)),
    "PurchaseCheck": Row("purchase_check", frozenset(OWNER | REGION_ROLES)),
    "LoanOffer": Row("loan_offer", frozenset(REGION_MEMBERS), "an open loan offer, region-wide like a listing"),
    "Loan": Row("loan", frozenset(OWNER | COUNTERPARTY | REGION_ROLES), "lender A, borrower B"),
    "WebhookEndpoint": Row("webhook", frozenset({"bureau_a"} | REGION_ROLES), "A's city system"),
    "WebhookDelivery": Row("webhook_delivery", frozenset({"bureau_a"} | REGION_ROLES), "its delivery log"),
}


def gid(type_name, pk):
    return Node.to_global_id(type_name, pk)


# Root fields that need arguments, with the arguments that reach A's objects.
ROOT_ARGS = {
    "node": None,  # tested on its own, per row
    "distanceKm": None,  # a number
    "me": None,  # the caller itself
    "jurisdiction": lambda w: {"code": w["city_a"].code},
    "jurisdictionAt": lambda w: {"lon": 121.47, "lat": 31.23},
    "jurisdictionsWithin": lambda w: {"lon": 121.47, "lat": 31.23, "km": 50.0},
    "standardsInForce": lambda w: {"region": w["region"].code, "on": "2026-06-01"},
    "listing": lambda w: {"id": gid("Listing", w["own_window_listing"].pk)},
    "transfer": lambda w: {"id": gid("Transfer", w["transfer"].pk)},
    "transferTrail": lambda w: {"transferId": gid("Transfer", w["transfer"].pk)},
    "reportJob": lambda w: {"id": gid("ReportJob", w["report_job"].pk)},
    "closingBalances": lambda w: {"periodId": gid("SettlementPeriod", w["period"].pk)},
    "compensation": lambda w: {"transferId": gid("Transfer", w["transfer"].pk)},
    "ledgerStatement": lambda w: {"accountId": gid("LedgerAccount", w["account_a"].pk), "start": "2026-01-01",
                                  "end": "2026-12-31"},
    "ledgerSummary": lambda w: {"jurisdiction": w["city_a"].code},
}


# Root fields also scanned with these optional arguments (other views of the same rows).
ROOT_VARIANTS = {
    "accessRequests": lambda w: {"toDecide": True},
}


def build(world):
    """Objects of A for every row, built through the services (the `region_world` fixture plus Nanjing)."""
    from evaluation.models import Evaluation, IndicatorSet, Objection
    from exchange.models import OfficeSpace
    from exchange.services import bulk_import, handover
    from kernel.models import AuditEvent
    from ledger.models import Leg, SettlementPeriod
    from ledger.services import posting, settlement
    from notifications.services import notify
    from regions.services import access, tokens
    from reports.models import ReportJob
    from tests import factories as f
    from tests.auth_matrix_cases import _transfer
    from tests.factories_exchange import open_listing, standard_set

    u = world["users"]
    region, city_a = world["region"], world["city_a"]
    nanjing = f.JurisdictionFactory(code="320100", name_zh="南京市", name_en="Nanjing", lon=118.8, lat=32.06)
    f.MembershipFactory(region=region, jurisdiction=nanjing)
    agency_nj = f.AgencyFactory(jurisdiction=nanjing, name_zh="南京丁单位")
    u["bureau_nj"] = f.user_with_role("bureau_manager", nanjing, "bureau_nj")
    u["staff_nj"] = f.user_with_role("agency_staff", agency_nj, "staff_nj")
    world["standard_set"] = standard_set(region)
    keys = {}
    with transaction.atomic():
        for scope, write in (("read", False), ("write", True)):
            _, keys[f"token_nj_{scope}"] = tokens.create_token(u["bureau_nj"], nanjing, name=scope, can_write=write)
        world["api_token"], _ = tokens.create_token(u["bureau_a"], city_a, name="erp")
        _, keys["token_outsider"] = tokens.create_token(u["outsider"], world["outside"], name="beijing")

    transfer = _transfer(world, approved=True)
    with transaction.atomic():
        handover.confirm_handover(u["staff_b"], transfer, received_quantity=1, received_condition="good")
    transfer.refresh_from_db()
    world.update(transfer=transfer, request=transfer.request, step=transfer.steps.get(kind="giving_bureau"),
                 event=AuditEvent.objects.get(transfer=transfer, action="transfer.completed"),
                 breakdown=transfer.compensation)
    from exchange.models import Occupancy
    from tests.auth_matrix_cases import end_occupancy

    end_occupancy(world)  # an office space of A handed over to B: an open occupancy
    world["occupancy"] = Occupancy.objects.latest("pk")
    world["own_window_listing"] = open_listing(world)
    world["asset"] = f.AssetFactory(agency=world["agency_a"], description="私有资产")
    world["asset_class"] = world["asset"].asset_class
    world["office_space"] = OfficeSpace.objects.create(
        agency=world["agency_a"], building="1号楼", floor="3", rooms="301", area_m2=Decimal("40.00"),
        location=Point(121.47, 31.23, srid=4326), available_from=date(2026, 1, 1))
    with transaction.atomic():
        world["import_job"] = bulk_import.start_import_job(u["staff_a"], world["agency_a"], filename="a.csv",
                                                           content=b"asset_class\n")
    world["report_job"] = ReportJob.objects.create(kind="allocation_report", parameters={}, requested_by=u["bureau_a"],
                                                   region=region, jurisdiction=city_a)
    world["report_job"].file.save("allocation_report-x.pdf", ContentFile(b"%PDF-1.4 A"), save=True)

    # March 2026: B owes A; the period is closed, so B has a payment instruction to A
    account_a = posting.compensation_account(region, city_a)
    account_b = posting.compensation_account(region, world["city_b"])
    posting.post(region, on=date(2026, 3, 5), kind="compensation", description="t", key="reads-matrix",
                 legs=[(account_b, "debit", Decimal("1200.00")), (account_a, "credit", Decimal("1200.00"))])
    with transaction.atomic():
        period = settlement.close_period(u["coordinator"], SettlementPeriod.objects.get(region=region,
                                                                                         start=date(2026, 3, 1)))
    world.update(account_a=account_a, leg_a=Leg.objects.filter(account=account_a).first(), period=period,
                 instruction=period.instructions.get())
    world["notification"] = notify([u["bureau_a"]], "step_opened", key="reads-matrix", email=False)[0]
    world["role_binding"] = u["bureau_a"].role_bindings.get()
    with transaction.atomic():
        world["access_request"] = access.request_access(f.UserFactory(username="newcomer"), role="agency_staff",
                                                        reason="新入职", agency=world["agency_a"])
    with transaction.atomic():
        from regions.services import emergency

        stop = emergency.stop_jurisdiction(u["coordinator"], city_a, reason="演练")
        world["emergency_stop"] = emergency.lift_stop(u["coordinator"], stop, reason="演练结束")
    world["indicator_set"] = IndicatorSet.objects.create(region=region, version=1, effective_from=date(2026, 1, 1),
                                                         title="考核指标")
    world["evaluation"] = Evaluation.objects.create(
        region=region, indicator_set=world["indicator_set"], cycle="quarter", period_from=date(2026, 1, 1),
        period_to=date(2026, 3, 31), objection_due_at=timezone.now())
    world["objection"] = Objection.objects.create(evaluation=world["evaluation"], jurisdiction=city_a, reason="口径",
                                                  filed_by=u["bureau_a"])
    _lifecycle(world)
    world["keys"] = keys
    world["now"] = timezone.now()
    return world


def _lifecycle(world):
    from exchange.models import AssetClass
    from lifecycle.models import Disposal, WebhookDelivery
    from lifecycle.services import disposal, loans, purchases, wants, webhooks
    from tests import factories as f
    from tests.factories_exchange import open_listing

    u = world["users"]
    unclaimed = open_listing(world)
    with transaction.atomic():
        disposal.open_disposals(now=unclaimed.region_window_ends_at + timedelta(minutes=1))
        world["disposal"] = Disposal.objects.get(listing=unclaimed)
        desktop = AssetClass.objects.get(code="2010104")
        world["want"] = wants.record_want(u["staff_a"], agency=world["agency_a"], asset_class=desktop, quantity=1,
                                          until=date(2099, 1, 1), reason="需要")
        world["purchase_check"] = purchases.file_purchase(u["staff_a"], agency=world["agency_a"], asset_class=desktop,
                                                          quantity=1, unit_price="4000", reason="需要")
        world["loan_offer"] = loans.offer_for_loan(u["staff_a"], asset=f.AssetFactory(agency=world["agency_a"]))
        world["webhook"], _secret = webhooks.register(u["bureau_a"], jurisdiction=world["city_a"],
                                                      url="https://127.0.0.1:9/hook")
        world["webhook_delivery"] = WebhookDelivery.objects.create(endpoint=world["webhook"], event="ping",
                                                                   event_key="reads", payload={})
        world["loan"] = loans.request_loan(u["staff_b"], offer=world["loan_offer"], borrower=world["agency_b"],
                                           quantity=1, days=5, reason="借用")
