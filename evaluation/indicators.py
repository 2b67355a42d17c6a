"""The seeded indicator set (考核指标体系) of a region, after 《机关事务工作区域一体化:协同框架与机制构建》
(将机关运行成本、后勤服务质量、节约能源资源等…纳入考核指标体系): idle assets, reuse, savings, compensation,
service quality (turnaround, on-time and red steps). Regions edit it as data: a change is a new,
effective-dated version."""
from decimal import Decimal

from .models import Indicator, IndicatorSet

DEFAULT_INDICATORS = [
    # code, zh, en, formula, unit, direction, weight, target, definition zh, definition en
    ("idle_rate", "闲置率(按价值)", "Idle rate by value", "listed_value / asset_value", "%", "lower", "1", "0.05",
     "本期挂牌闲置资产原值 ÷ 期初在册资产原值。", "Value listed as idle in the period ÷ value of asset records held."),
    ("reuse_rate", "调剂利用率", "Reuse rate", "reused_value / listed_value", "%", "higher", "2", "0.60",
     "本期挂牌资产中被其他单位接收的原值 ÷ 本期挂牌原值。",
     "Value received by others from the unit's listings ÷ value the unit listed in the period."),
    ("savings", "节约资金", "Savings", "avoided_purchase - compensation_paid", "CNY", "higher", "2", None,
     "接收单位免于购置的金额(按配置标准价格上限,无上限时按原值)减去支付的补偿。",
     "What received units would have cost to buy (the standard's price cap, else original value) − "
     "compensation paid."),
    ("compensation_balance", "补偿收支", "Compensation balance", "compensation_received - compensation_paid",
     "CNY", "higher", "0.5", None, "本期应收补偿减应付补偿。", "Compensation receivable − payable in the period."),
    ("turnaround", "办结时长中位数", "Median turnaround", "turnaround_median_days", "working days", "lower", "1",
     "10", "从申领到交接完成的工作日中位数。", "Median working days from request to completed handover."),
    ("on_time_share", "审批按时率", "On-time share of steps", "steps_on_time / steps_decided", "%", "higher", "1.5",
     "0.95", "按期办结的审批环节 ÷ 已办结环节。", "Approval steps decided by their deadline ÷ steps decided."),
    ("red_share", "红灯率", "Red share", "steps_red / steps_total", "%", "lower", "1.5", "0.02",
     "超期(红灯)环节 ÷ 全部环节。", "Steps that went red (overdue) ÷ all steps."),
    ("loan_on_time", "出借按期归还率", "Loans returned on time", "loans_returned_on_time / loans_returned", "%",
     "higher", "0.5", "0.95", "按期归还的出借 ÷ 本期归还的出借。",
     "Loans returned by their due date ÷ loans returned."),
    ("disposal_share", "处置率", "Disposal share", "listings_to_disposal / listings_ended", "%", "lower", "0.5",
     "0.20", "无人申领而转入处置的挂牌 ÷ 本期筛选期结束的挂牌。",
     "Listings that went to disposal unclaimed ÷ listings whose screening window ended in the period."),
]


# Added by version 2 of the set (a region changes its indicators by a new version from a date; the
# evaluations frozen under version 1 keep version 1).
CO2_AVOIDED = ("co2_avoided", "减少碳排放", "CO₂ avoided", "co2_avoided_kg", "kg CO₂e", "higher", "1", None,
               "接收单位调剂使用而免于新购的资产所含碳排放：接收数量 × 资产类别碳排放因子（注明出处，按完成日有效）。",
               "Embodied carbon of the new units the receivers did not buy: units received × the class's carbon "
               "factor in force at completion (each with its published source).")
VERSIONS = {1: DEFAULT_INDICATORS, 2: [*DEFAULT_INDICATORS, CO2_AVOIDED]}


def seed(region, effective_from, *, version=1, title="长三角公物仓绩效评估指标体系", source="", cycle="quarter"):
    """Create the region's indicator set version (idempotent) with the indicators of `VERSIONS[version]`."""
    indicator_set, created = IndicatorSet.objects.get_or_create(
        region=region, version=version,
        defaults={"effective_from": effective_from, "title": title, "cycle": cycle,
                  "source": source or "时影、金佩瑶、黄月敏《机关事务工作区域一体化:协同框架与机制构建》:绩效评估机制"})
    if created:
        Indicator.objects.bulk_create([
            Indicator(indicator_set=indicator_set, code=code, name_zh=zh, name_en=en, formula=formula, unit=unit,
                      direction=direction, weight=Decimal(weight), target=None if target is None else Decimal(target),
                      definition_zh=dzh, definition_en=den, position=n)
            for n, (code, zh, en, formula, unit, direction, weight, target, dzh, den)
            in enumerate(VERSIONS[version])])
    return indicator_set
