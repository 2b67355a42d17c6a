"""调剂调拨情况报告 The period allocation report: totals, flows between jurisdictions and every transfer."""

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Paragraph,
    Spacer,
)

from ..data import AllocationReport
from . import kit
from .kit import ROWS_PER_TABLE, WIDTH, money, number, period, register_font

# The detail's columns hold the largest figures a transfer can have (id to 9,999,999, quantity to 10,000, value
# to 999,999,999.99, days to 9,999); names are fitted to their columns, an agency without its jurisdiction's name
# when it starts with it (the From and To columns show it).
DETAIL_WIDTHS = [12 * mm, 15 * mm, 15 * mm, 14 * mm, 14 * mm, 37 * mm, 22 * mm, 9 * mm, 20 * mm, 11 * mm, 9 * mm]


def render_allocation_report(data: AllocationReport, generated_at=None) -> bytes:
    register_font()
    s = kit.styles()
    h = data.heading
    story = [kit.facts([
        ("范围", "Scope", f"{h.scope_zh} {h.scope_en}"),
        ("统计期间", "Period", period(h)),
        ("调拨笔数", "Transfers", f"{data.transfers:,}"),
        ("已完成", "Completed", f"{data.completed:,}"),
        ("调拨原值合计 (元)", "Value moved CNY", money(data.value)),
        ("平均办结天数", "Avg. turnaround (days)", number(data.avg_turnaround_days)),
    ], s, label_width=40 * mm, width=WIDTH * 0.7)]
    story.append(Paragraph("一、图表 Charts", s["h2"]))
    if data.months:
        story.append(kit.bar_chart("各月调拨笔数 Transfers per month", [m.month for m in data.months],
                                   [[m.transfers for m in data.months]], fmt=lambda v: f"{v:,.0f}"))
        story.append(Spacer(1, 3 * mm))
        story.append(kit.bar_chart("各月平均办结天数 Average turnaround (days) per month",
                                   [m.month for m in data.months],
                                   [[m.avg_turnaround_days or 0 for m in data.months]], fmt=lambda v: f"{v:.1f}"))
    if data.jurisdictions:
        top = sorted(data.jurisdictions, key=lambda j: j.value_out + j.value_in, reverse=True)[:12]
        height = max(50 * mm, (len(top) * 11 + 40))
        story.append(Spacer(1, 3 * mm))
        story.append(kit.bar_chart("各地区调拨原值 Value moved per jurisdiction (CNY)",
                                   [j.jurisdiction for j in reversed(top)],
                                   [[j.value_out for j in reversed(top)], [j.value_in for j in reversed(top)]],
                                   names=("调出 given", "调入 received"), horizontal=True, height=height,
                                   fmt=kit.short))
    if not data.months:
        story.append(kit.empty(s))

    story.append(CondPageBreak(60 * mm))
    story.append(Paragraph("二、地区间流向 Flows between jurisdictions", s["h2"]))
    rows = [kit.header([("调出地区", "From"), ("调入地区", "To"), ("笔数", "Transfers"), ("原值 (元)", "Value CNY")],
                       s)]
    rows += [[f.giver_jurisdiction, f.receiver_jurisdiction, f"{f.transfers:,}", money(f.value)] for f in data.flows]
    story.append(kit.table(rows, [WIDTH * 0.32, WIDTH * 0.32, WIDTH * 0.14, WIDTH * 0.22], numeric_cols=(2, 3),
                           long=True) if data.flows else kit.empty(s))
    story.append(Paragraph("三、各地区汇总 Per jurisdiction", s["h2"]))
    rows = [kit.header([("地区", "Jurisdiction"), ("调出笔数", "Out"), ("调出原值 (元)", "Value out CNY"),
                     ("调入笔数", "In"), ("调入原值 (元)", "Value in CNY")], s)]
    rows += [[j.jurisdiction, f"{j.transfers_out:,}", money(j.value_out), f"{j.transfers_in:,}", money(j.value_in)]
             for j in data.jurisdictions]
    story.append(kit.table(rows, [WIDTH * 0.32, WIDTH * 0.12, WIDTH * 0.22, WIDTH * 0.12, WIDTH * 0.22],
                           numeric_cols=(1, 2, 3, 4), long=True) if data.jurisdictions else kit.empty(s))

    story.append(CondPageBreak(40 * mm))
    story.append(Paragraph(f"四、调拨明细 All transfers in the period ({len(data.rows):,})", s["h2_long"]))
    header = ["编号\nNo.", "分配日期\nAllocated", "完成日期\nCompleted", "调出地区\nFrom", "调入地区\nTo",
              "调出单位 → 调入单位\nGiver → receiver", "物品\nItem", "数量\nQty", "原值(元)\nValue CNY",
              "状态\nStatus", "天数\nDays"]
    widths = DETAIL_WIDTHS
    size = 6.5
    body = [_detail_row(r, widths, size) for r in data.rows]
    if not body:
        story.append(kit.empty(s))
    for start in range(0, len(body), ROWS_PER_TABLE):
        story.append(kit.table([header] + body[start:start + ROWS_PER_TABLE], widths, numeric_cols=(0, 7, 8, 10),
                               long=True, font_size=size))
    return kit.build(data, story, "公物仓调剂调拨情况报告", "Period Allocation Report", generated_at)


def _detail_row(r, widths, size):
    fit = kit.fit
    parties = kit.fit_pair(_agency(r.giver, r.giver_jurisdiction), _agency(r.receiver, r.receiver_jurisdiction),
                           widths[5], size)
    return [str(r.transfer_id), r.allocated_on.isoformat(), r.completed_on.isoformat() if r.completed_on else "—",
            fit(r.giver_jurisdiction, widths[3], size), fit(r.receiver_jurisdiction, widths[4], size), parties,
            fit(r.item, widths[6], size), str(r.quantity), money(r.value),
            fit(r.status_zh.split(" ")[0], widths[9], size), number(r.turnaround_days, 0)]


def _agency(name, jurisdiction):
    """上海市统计局 in 上海市 → 统计局."""
    return name[len(jurisdiction):] if jurisdiction and name.startswith(jurisdiction) and name != jurisdiction else name
