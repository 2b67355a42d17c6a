"""The evaluation report (绩效评估通报): plain data built from a frozen evaluation, rendered to PDF with
the reports kit (embedded CJK font, bilingual headings, checksum on the last page). The league table
shows every unit's weighted score against the region's median; the trend shows median, best and worst
per cycle."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from reports.data import Heading
from reports.render import kit

from . import selectors


@dataclass(frozen=True)
class LeagueLine:
    rank: int | None
    code: str
    name_zh: str
    name_en: str
    weighted: Decimal | None
    values: tuple  # (indicator code, value or None) in the set's order


@dataclass(frozen=True)
class TrendPoint:
    period_from: date
    period_to: date
    version: int
    median: Decimal | None
    best: Decimal | None
    worst: Decimal | None


@dataclass(frozen=True)
class EvaluationReport:
    heading: Heading
    version: int
    indicator_set_version: int
    indicators: tuple  # (code, name_zh, name_en, unit, direction, weight)
    lines: tuple[LeagueLine, ...]
    median: Decimal | None
    totals: tuple  # (label_zh, label_en, value)
    trend: tuple[TrendPoint, ...]
    audit_head_hash: str
    published: bool
    notes: tuple[str, ...] = field(default=())

    kind = "evaluation_report"


def chart_rows(evaluation):
    """[(line, percent of the best score)] and the median, for the workbench's bars."""
    table = selectors.league_table(evaluation)
    top = max((s.weighted_score for s in table if s.weighted_score is not None), default=None)
    median = selectors.median([s.weighted_score for s in table if s.weighted_score is not None])

    def width(v):
        return float(v / top * 100) if top and v is not None else 0.0

    return {"rows": [(s, width(s.weighted_score)) for s in table], "median": median, "median_pct": width(median)}


def trend_rows(history):
    points = []
    for evaluation, by_unit, median in selectors.trend(history):
        values = [v for v in by_unit.values() if v is not None]
        points.append(TrendPoint(evaluation.period_from, evaluation.period_to, evaluation.version, median,
                                 max(values, default=None), min(values, default=None)))
    return tuple(points)


def build(evaluation, history):
    region = evaluation.region
    indicators = list(evaluation.indicator_set.indicators.all())
    table = selectors.league_table(evaluation)
    totals = selectors.totals(evaluation)
    lines = tuple(LeagueLine(s.rank, s.jurisdiction.code, s.jurisdiction.name_zh, s.jurisdiction.name_en,
                             s.weighted_score,
                             tuple((i.code, _dec(s.indicators.get(i.code, {}).get("value"))) for i in indicators))
                  for s in table)
    return EvaluationReport(
        heading=Heading(region.name_zh, region.name_en, "全区域", "Whole region", evaluation.period_from,
                        evaluation.period_to),
        version=evaluation.version, indicator_set_version=evaluation.indicator_set.version,
        indicators=tuple((i.code, i.name_zh, i.name_en, i.unit, i.direction, i.weight) for i in indicators),
        lines=lines, median=selectors.median([x.weighted for x in lines if x.weighted is not None]),
        totals=(("节约资金 (元)", "Savings (CNY)", kit.money(totals["savings"])),
                ("调剂利用率", "Reuse rate", kit.percent(totals["reuse_rate"])),
                ("完成调拨", "Transfers completed", f"{totals['transfers_completed']:,}")),
        trend=trend_rows(history), audit_head_hash=evaluation.audit_head_hash,
        published=hasattr(evaluation, "publication"),
        notes=tuple(f"{i.name_zh} {i.name_en}: {i.definition_zh} {i.definition_en} 公式 formula: {i.formula}; "
                    f"{'越高越好 higher is better' if i.direction == 'higher' else '越低越好 lower is better'}; "
                    f"权重 weight {i.weight}" for i in indicators) + (
            "得分：各指标在参评单位间按最小—最大法折算为 0–100 分（越低越好者取反），综合得分为适用指标得分的加权平均，"
            "四舍五入保留两位小数；本周期无任何挂牌、调入、调出或审批的单位不评分、不排名。Scores: min–max across "
            "units to 0–100 (inverted where lower is better); the weighted score averages the applicable indicators "
            "by weight, rounded half-up to 2 places; a unit with no listing, transfer or approval step in the cycle "
            "is not rated.",),
    )


def _dec(text):
    return None if text is None else Decimal(text)


def _indicator_cell(value, unit):
    if value is None:
        return "—"
    if unit == "%":
        return kit.percent(value)
    if unit == "CNY":
        return kit.money(value)
    return kit.number(value, 1)


def _league_chart(lines, median, width=kit.WIDTH):
    """Horizontal bars of weighted scores (0–100), rank order, with the region's median as a dashed line."""
    shown = [x for x in lines if x.weighted is not None][:25]
    row, left, right = 5.2 * mm, 34 * mm, 14 * mm
    height = row * len(shown) + 14 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 9, "综合得分与区域中位数 Weighted score against the region's median",
                       fontName=kit.FONT, fontSize=9, fillColor=kit.INK))
    scale = (width - left - right) / 100
    for n, line in enumerate(shown):
        y = height - 16 * mm - n * row
        drawing.add(String(left - 2, y + 1, line.name_zh, fontName=kit.FONT, fontSize=7, textAnchor="end",
                           fillColor=kit.INK))
        drawing.add(Rect(left, y, float(line.weighted) * scale, row * 0.7, fillColor=kit.BARS[0], strokeColor=None))
        drawing.add(String(left + float(line.weighted) * scale + 2, y + 1, f"{line.weighted}", fontName=kit.FONT,
                           fontSize=6.5, fillColor=kit.INK))
    if median is not None:
        x = left + float(median) * scale
        drawing.add(Line(x, 2 * mm, x, height - 12 * mm, strokeColor=kit.ACCENT, strokeDashArray=[3, 2]))
        drawing.add(String(x + 2, height - 13 * mm, f"中位数 median {median:.2f}", fontName=kit.FONT,
                           fontSize=7, fillColor=kit.ACCENT))
    return drawing


def render_pdf(data: EvaluationReport, generated_at=None) -> bytes:
    kit.register_font()
    s = kit.styles()
    h = data.heading
    status = "已通报 published" if data.published else "未通报 not published"
    story = [kit.facts([("评估期间", "Period", kit.period(h)), ("版本", "Version", f"v{data.version} · {status}"),
                         ("指标体系", "Indicator set", f"v{data.indicator_set_version}"),
                         ("参评单位", "Units rated / evaluated",
                          f"{sum(1 for x in data.lines if x.weighted is not None)} / {len(data.lines)}"),
                         *data.totals,
                         ("留痕锚点", "Audit anchor", data.audit_head_hash[:16] + "…")],
                        s, label_width=30 * mm, width=kit.WIDTH * 0.8)]
    story.append(Paragraph("一、排名 League table", s["h2"]))
    header = [("名次", "Rank"), ("地区", "Jurisdiction"), ("综合得分", "Score")] + [
        (zh, en) for _code, zh, en, *_ in data.indicators]
    rows = [kit.header(header, s, right=range(2, len(header)))]
    units = {code: unit for code, _zh, _en, unit, *_ in data.indicators}
    rated = [line for line in data.lines if line.weighted is not None]
    for line in rated:
        rows.append([str(line.rank or "—"), Paragraph(line.name_zh, s["cell"]),
                     "—" if line.weighted is None else f"{line.weighted}"]
                    + [_indicator_cell(v, units[c]) for c, v in line.values])
    rest = (kit.WIDTH - 10 * mm - 24 * mm - 14 * mm) / max(len(data.indicators), 1)
    story.append(kit.table(rows, [10 * mm, 24 * mm, 14 * mm] + [rest] * len(data.indicators),
                            numeric_cols=range(2, len(header)), long=True, font_size=7))
    unrated = [line.name_zh for line in data.lines if line.weighted is None]
    if unrated:
        story.append(Paragraph(f"本周期无业务、不评分的单位 Not rated (no activity in the cycle): {'、'.join(unrated)}",
                               s["small"]))
    story.append(Spacer(1, 4 * mm))
    story.append(_league_chart(data.lines, data.median))
    story.append(Paragraph("二、历次评估 Trend over cycles", s["h2"]))
    if data.trend:
        labels = [f"{p.period_from:%Y-%m}" for p in data.trend]
        story.append(kit.bar_chart("各周期综合得分 Score per cycle", labels,
                                    [[p.median or 0 for p in data.trend], [p.best or 0 for p in data.trend],
                                     [p.worst or 0 for p in data.trend]],
                                    names=("中位数 median", "最高 best", "最低 worst"), fmt=lambda v: f"{v:.1f}"))
    story.append(Paragraph("三、口径说明 Definitions", s["h2"]))
    for note in data.notes:
        story.append(Paragraph(note, s["small"]))
    return kit.build(data, story, "公物仓绩效评估通报", "Performance Evaluation Report", generated_at)
