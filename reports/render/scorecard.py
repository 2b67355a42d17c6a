"""绩效评估表 The performance scorecard of a period."""

from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    Spacer,
)

from ..data import Scorecard
from . import kit
from .kit import WIDTH, money, number, percent, period, register_font


def render_scorecard(data: Scorecard, generated_at=None) -> bytes:
    register_font()
    s = kit.styles()
    h = data.heading
    story = [kit.facts([("范围", "Scope", f"{h.scope_zh} {h.scope_en}"), ("评估期间", "Period", period(h)),
                     ("参评地区", "Jurisdictions", len(data.lines))], s, label_width=30 * mm,
                       width=WIDTH * 0.7)]
    story.append(Paragraph("一、绩效指标 Indicators", s["h2"]))
    rows = [kit.header([("地区", "Jurisdiction"), ("挂牌", "Listed"), ("调入", "Taken"), ("调出", "Given"),
                     ("节约 (元)", "Saved CNY"), ("闲置率", "Idle rate"), ("审批均天", "Days/step"),
                     ("红灯占比", "Red steps"), ("用房 m²", "Office m²"), ("减碳 kg", "CO₂ kg")], s)]
    for line in data.lines:
        rows.append([Paragraph(line.jurisdiction, s["cell"]), f"{line.items_listed:,}", f"{line.items_taken:,}",
                     f"{line.items_given:,}", money(line.value_saved), percent(line.idle_rate),
                     number(line.avg_step_days), percent(line.red_share), number(line.office_m2, 2),
                     number(line.co2_avoided_kg)])
    story.append(kit.table(rows, [30 * mm, 13 * mm, 13 * mm, 13 * mm, 26 * mm, 16 * mm, 16 * mm, 16 * mm,
                               WIDTH - 163 * mm, 20 * mm], numeric_cols=range(1, 10), long=True)
                 if data.lines else kit.empty(s))
    if data.lines:
        shown = data.lines[:14]
        story.append(Paragraph("二、图表 Charts", s["h2"]))
        story.append(kit.bar_chart("节约购置资金 Value saved versus buying new (CNY)", [x.jurisdiction for x in shown],
                                   [[x.value_saved for x in shown]], fmt=kit.short))
        story.append(Spacer(1, 3 * mm))
        story.append(kit.bar_chart("审批平均天数与红灯占比 Average days per approval step / red share (%)",
                                   [x.jurisdiction for x in shown],
                                   [[x.avg_step_days or 0 for x in shown], [(x.red_share or 0) * 100 for x in shown]],
                                   names=("天数 days", "红灯 % red"), fmt=lambda v: f"{v:.1f}"))
    story.append(Paragraph("三、口径说明 Definitions", s["h2"]))
    for note in data.notes:
        story.append(Paragraph(note, s["small"]))
    return kit.build(data, story, "公物仓绩效评估表", "Performance Scorecard", generated_at)
