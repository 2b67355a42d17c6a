"""Deterministic sample document data for render tests, previews and timing (`render_report --sample`).
Clearly labelled as samples on the page ("样例 sample"); never used for a real job."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import data as d

TZ = ZoneInfo("Asia/Shanghai")
CITIES = ["上海市", "杭州市", "南京市", "苏州市", "合肥市", "宁波市", "无锡市", "芜湖市"]
AGENCIES = ["统计局", "教育局", "机关事务管理局", "卫生健康委员会", "财政局", "交通运输局"]
ITEMS = [("台式计算机", "台", Decimal("4500.00")), ("激光打印机", "台", Decimal("2800.00")),
         ("办公桌", "张", Decimal("1600.00")), ("文件柜", "组", Decimal("900.00")),
         ("笔记本电脑", "台", Decimal("6200.00"))]


def heading(scope_zh="长三角区域 (样例 sample)", scope_en="Yangtze River Delta", start=None, end=None):
    return d.Heading(region_zh="长三角区域", region_en="Yangtze River Delta", scope_zh=scope_zh, scope_en=scope_en,
                     period_from=start, period_to=end)


def certificate():
    at = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
    return d.TransferCertificate(
        heading=heading(), transfer_id=1024, certificate_code="K7Q3M9XH2PRT",
        verify_url="http://127.0.0.1:8000/reports/verify/K7Q3M9XH2PRT", status_zh="已完成 completed",
        giver=d.Party("上海市统计局", "Shanghai Statistics Bureau", "11310000MB0001002B", "上海市", "310000"),
        receiver=d.Party("杭州市教育局", "Hangzhou Education Bureau", "11330100MB0002002D", "杭州市", "330100"),
        items=(d.CertificateItem("联想启天 M430 台式计算机", "2010104 台式计算机", 12, "台", Decimal("4500.00"),
                                 Decimal("54000.00"), "良好 good"),),
        total_value=Decimal("54000.00"), distance_km=Decimal("164.30"), allocated_at=at,
        approved_at=at + timedelta(days=3), completed_at=at + timedelta(days=9),
        approvals=(
            d.ApprovalLine("调出方机关事务管理局", "giving bureau", "同意 approved", "sh_bureau",
                           at + timedelta(days=1), at + timedelta(days=7), True, responsible="sh_bureau"),
            d.ApprovalLine("调入方机关事务管理局", "receiving bureau", "同意 approved", "hz_bureau",
                           at + timedelta(days=2), at + timedelta(days=7), True),
            d.ApprovalLine("区域协调机构", "regional coordinator", "同意 approved", "coordinator",
                           at + timedelta(days=3), at + timedelta(days=2), False),
        ),
        received_quantity=12, received_condition="良好 good", handover_confirmed_by="hz_edu",
        handover_responsible="hz_edu", handover_due_at=at + timedelta(days=16),
        compensation=(d.MoneyLine("残值补偿", "residual value × rate", Decimal("17280.00")),
                      d.MoneyLine("手续费", "handling fee", Decimal("200.00")),
                      d.MoneyLine("运输费", "transport", Decimal("492.90"))),
        compensation_total=Decimal("17972.90"))


def allocation(rows=200):
    start, end = date(2026, 1, 1), date(2026, 6, 30)
    out = []
    for i in range(rows):
        g, r = CITIES[i % len(CITIES)], CITIES[(i * 3 + 1) % len(CITIES)]
        if g == r:
            r = CITIES[(i + 1) % len(CITIES)]
        name, _unit, price = ITEMS[i % len(ITEMS)]
        allocated = start + timedelta(days=(i * 7) % 180)
        done = i % 5 != 0
        days = Decimal(5 + i % 17)
        qty = 1 + i % 6
        out.append(d.TransferRow(
            transfer_id=1000 + i, allocated_on=allocated,
            completed_on=allocated + timedelta(days=int(days)) if done else None,
            giver_jurisdiction=g, receiver_jurisdiction=r, giver=g + AGENCIES[i % len(AGENCIES)],
            receiver=r + AGENCIES[(i + 2) % len(AGENCIES)], item=name, quantity=qty, value=price * qty,
            status_zh="已完成 completed" if done else "审批中 approving", turnaround_days=days if done else None))
    return d.allocation_from_rows(heading(start=start, end=end), out)


def settlement():
    accounts = [f"{c}应收应付补偿 compensation" for c in CITIES[:5]]
    balances = tuple(d.BalanceLine(a, Decimal("0.00"), Decimal(1000 * (i + 1)), Decimal(1500 * (5 - i)),
                                   Decimal(1500 * (5 - i) - 1000 * (i + 1))) for i, a in enumerate(accounts))
    postings = tuple(d.PostingLine(date(2026, 3, 1 + i % 28), f"JT-{2000 + i}", accounts[i % 5], "调拨补偿 transfer",
                                   Decimal("120.50") * (i % 3), Decimal("120.50") * ((i + 1) % 3)) for i in range(40))
    return d.SettlementStatement(
        heading=heading(start=date(2026, 3, 1), end=date(2026, 3, 31)), period_status_zh="已结算 closed",
        balances=balances,
        payments=(d.PaymentLine("苏州市", "上海市", Decimal("6500.00"), "待支付 pending"),
                  d.PaymentLine("合肥市", "杭州市", Decimal("2500.00"), "已确认 confirmed")),
        postings=postings,
        audit_anchor="#12 2026-04-01 00:05 · 1234 events · head 1234 · SHA-256 "
                     "9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d")


def scorecard():
    lines = tuple(d.ScoreLine(
        jurisdiction=c, items_listed=10 + i * 3, items_taken=4 + i, items_given=6 + i,
        value_received=Decimal(18000 + 3000 * i), compensation_paid=Decimal(5000 + 700 * i),
        value_saved=Decimal(13000 + 2300 * i), idle_rate=Decimal("0.05") + Decimal(i) / 100,
        co2_avoided_kg=Decimal(800 * (i % 4)) + Decimal("22.5") * i,
        avg_step_days=Decimal("2.5") + Decimal(i) / 2, red_share=Decimal(i) / 20, office_m2=Decimal(120 * i))
        for i, c in enumerate(CITIES[:6]))
    return d.Scorecard(heading=heading(start=date(2026, 1, 1), end=date(2026, 6, 30)), lines=lines,
                       notes=("样例数据 sample data.",))


SAMPLES = {"transfer_certificate": certificate, "allocation_report": allocation,
           "settlement_statement": settlement, "scorecard": scorecard}
