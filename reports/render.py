"""Render document data (reports.data) to PDF bytes with reportlab. Pure: data in, bytes out — no ORM.

Every document: A4, the embedded CJK TrueType font (WenQuanYi Zen Hei), Chinese titles with English
subtitles, the region's name in the header, "第 x / y 页" and the generation time (Asia/Shanghai) in the
footer, and the SHA-256 of the document's data on the last page."""
import io
import os
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import STATE_DEFAULTS, Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .data import AllocationReport, Scorecard, SettlementStatement, TransferCertificate, data_sha256

FONT = "WQYZenHei"
FONT_PATH = os.environ.get("REPORTS_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
WIDTH = PAGE_W - 2 * MARGIN
INK = colors.HexColor("#1f2d3d")
RULE = colors.HexColor("#8a97a6")
HEAD_BG = colors.HexColor("#e4eaf1")
ZEBRA = colors.HexColor("#f6f8fa")
ACCENT = colors.HexColor("#b22222")
BARS = [colors.HexColor("#2f6690"), colors.HexColor("#d9822b"), colors.HexColor("#3a7d44")]
ROWS_PER_TABLE = 400  # long tables are split in chunks so that reportlab never re-splits 10,000 rows


class FontMissing(RuntimeError):
    pass


def register_font():
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    if not os.path.exists(FONT_PATH):
        raise FontMissing(
            f"CJK font not found at {FONT_PATH}: install Debian's fonts-wqy-zenhei "
            "(apt-get install fonts-wqy-zenhei) or set REPORTS_CJK_FONT to a TrueType CJK font")
    pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
    registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
    STATE_DEFAULTS["fontName"] = FONT  # drawings (charts, QR) start in this font, never in unembedded Helvetica
    return FONT


def _styles():
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontSize=18, leading=24, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=10, leading=14, alignment=TA_CENTER,
                                   textColor=RULE),
        "h2": ParagraphStyle("h2", base, fontSize=11.5, leading=16, spaceBefore=6, spaceAfter=3, keepWithNext=1),
        "small": ParagraphStyle("small", base, fontSize=7.5, leading=10, textColor=RULE),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=9.5),
        "num": ParagraphStyle("num", base, fontSize=8, leading=10.5, alignment=TA_RIGHT),
        "hash": ParagraphStyle("hash", base, fontSize=8, leading=11),
    }


# --- formatting -----------------------------------------------------------------------------------
def money(value):
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}"


def number(value, places=1):
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,}"


def percent(value):
    return "—" if value is None else f"{Decimal(value) * 100:.1f}%"


def when(value):
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def period(heading):
    if heading.period_from is None and heading.period_to is None:
        return "全部 all time"
    return f"{when(heading.period_from) if heading.period_from else '…'} 至 to " \
           f"{when(heading.period_to) if heading.period_to else '…'}"


# --- page furniture -------------------------------------------------------------------------------
def _numbered_canvas(heading, title, generated_at):
    """A canvas that defers pages so that the footer can say 第 x / y 页."""

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 - reportlab API
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number_, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furniture(number_, total)
                super().showPage()
            super().save()

        def _furniture(self, page, total):
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.setFont(FONT, 8)
            self.setFillColor(INK)
            top = PAGE_H - 10 * mm
            self.drawString(MARGIN, top, f"{heading.region_zh}  {heading.region_en}")
            self.drawRightString(PAGE_W - MARGIN, top, title)
            self.line(MARGIN, top - 2 * mm, PAGE_W - MARGIN, top - 2 * mm)
            bottom = 9 * mm
            self.line(MARGIN, bottom + 4 * mm, PAGE_W - MARGIN, bottom + 4 * mm)
            self.drawString(MARGIN, bottom, f"生成时间 Generated {generated_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"
                                            " (Asia/Shanghai)")
            self.drawRightString(PAGE_W - MARGIN, bottom, f"第 {page} / {total} 页  Page {page} of {total}")
            self.restoreState()

    return NumberedCanvas


def _build(data, story, title_zh, title_en, generated_at):
    register_font()
    s = _styles()
    generated_at = generated_at or datetime.now(SHANGHAI)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{title_zh} {title_en}", author=data.heading.region_zh,
                            subject=data.kind, creator="Gongwucang 公物仓", initialFontName=FONT)
    head = [Paragraph(title_zh, s["title"]), Paragraph(title_en, s["subtitle"]), Spacer(1, 2 * mm)]
    digest = data_sha256(data)
    tail = [Spacer(1, 3 * mm), KeepTogether([
        Paragraph(f"数据校验 Data checksum　SHA-256: {digest}", s["hash"]),
        Paragraph("本值为本文件所载数据（规范化 JSON）的 SHA-256 摘要，可与系统记录核对。"
                  " The SHA-256 of this document's data (canonical JSON), recorded by the system.", s["small"]),
    ])]
    doc.build(head + story + tail, canvasmaker=_numbered_canvas(data.heading, f"{title_zh} {title_en}",
                                                                generated_at))
    return buffer.getvalue()


# --- building blocks ------------------------------------------------------------------------------
def _table(rows, widths, *, header_rows=1, numeric_cols=(), long=False, zebra=True, font_size=8):
    """A grid table; header rows shaded and repeated on every page; numeric columns right-aligned."""
    cls = LongTable if long else Table
    table = cls(rows, colWidths=widths, repeatRows=header_rows)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, font_size),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for col in numeric_cols:
        style.append(("ALIGN", (col, header_rows), (col, -1), "RIGHT"))
    if zebra:
        # One command for every body row (not one BACKGROUND per row: reportlab applies each to each row).
        style.append(("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, ZEBRA]))
    table.setStyle(TableStyle(style))
    return table


def _header(zh_en_pairs, s, right=()):
    """Bilingual header cells; the columns in `right` (numeric ones) right-aligned like their figures."""
    right_style = ParagraphStyle("cell_right", s["cell"], alignment=TA_RIGHT)
    return [Paragraph(f"{zh}<br/><font size=6.5 color='#8a97a6'>{en}</font>", right_style if i in right else s["cell"])
            for i, (zh, en) in enumerate(zh_en_pairs)]


def _facts(pairs, s, label_width=34 * mm, width=WIDTH / 2 - 2 * mm):
    """Two-column label/value block, labels bilingual."""
    rows = [[Paragraph(f"{zh}<br/><font size=6.5 color='#8a97a6'>{en}</font>", s["cell"]),
             Paragraph(str(value), s["cell"])] for zh, en, value in pairs]
    table = Table(rows, colWidths=[label_width, width - label_width], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 8), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), HEAD_BG), ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _side_by_side(left, right):
    table = Table([[left, right]], colWidths=[WIDTH / 2, WIDTH / 2])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _bar_chart(title, labels, series, *, names=(), horizontal=False, width=WIDTH, height=62 * mm, fmt=str):
    """A titled bar chart with reportlab graphics; `series` is a list of value lists (one per colour).
    Without any non-zero value, a one-line "no data" note replaces the empty axes."""
    if not any(v for serie in series for v in serie):
        return Paragraph(f"{title}：本期无数据 no data for this period.", _styles()["cell"])
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=FONT, fontSize=9, fillColor=INK))
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    values = [[float(v or 0) for v in serie] for serie in series] or [[0]]
    chart.data = values if labels else [[0]]
    left = 62 if horizontal else 40
    chart.x, chart.y = left, 28 if not horizontal else 14
    chart.width, chart.height = width - left - 30, height - 50 if not horizontal else height - 36
    axis_cat, axis_val = (chart.categoryAxis, chart.valueAxis)
    axis_cat.categoryNames = list(labels) or ["—"]
    for axis in (axis_cat, axis_val):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 7
    if not horizontal and len(labels) > 8:
        axis_cat.labels.angle = 45
        axis_cat.labels.boxAnchor = "ne"
        axis_cat.labels.dy = -2
    top = max((max(s) for s in values if s), default=0)
    axis_val.valueMin = 0
    axis_val.valueMax = top * 1.15 if top > 0 else 1
    axis_val.labelTextFormat = lambda v: _short(v)
    axis_val.visibleGrid = True
    axis_val.gridStrokeColor = colors.HexColor("#dde3ea")
    chart.barSpacing = 1
    chart.groupSpacing = 6
    for i in range(len(values)):
        chart.bars[i].fillColor = BARS[i % len(BARS)]
        chart.bars[i].strokeColor = None
    chart.barLabelFormat = lambda v: fmt(v) if v else ""
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 6
    if horizontal:
        chart.barLabels.boxAnchor = "w"
    drawing.add(chart)
    for i, name in enumerate(names):
        x = width - 80 * (len(names) - i)
        y = height - 10
        drawing.add(Rect(x, y, 7, 7, fillColor=BARS[i % len(BARS)], strokeColor=None))
        drawing.add(String(x + 10, y, name, fontName=FONT, fontSize=7, fillColor=INK))
    return drawing


def _short(value):
    value = float(value)
    if abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _empty(s, text="本期无数据 No data for this period."):
    return Paragraph(text, s["small"])


# --- transfer certificate -------------------------------------------------------------------------
def render_transfer_certificate(data: TransferCertificate, generated_at=None) -> bytes:
    register_font()
    s = _styles()
    code = data.certificate_code
    display_code = "-".join(code[i:i + 4] for i in range(0, len(code), 4))
    qr = Drawing(30 * mm, 30 * mm)
    widget = QrCodeWidget(data.verify_url, barWidth=30 * mm, barHeight=30 * mm, barBorder=1)
    qr.add(widget)
    ident = _facts([
        ("调拨单号", "Certificate no.", f"GWC-{data.transfer_id:08d}"),
        ("核验码", "Verification code", f"<b>{display_code}</b>"),
        ("状态", "Status", data.status_zh),
        ("核验地址", "Verify at", data.verify_url),
    ], s, label_width=28 * mm, width=WIDTH - 36 * mm)
    ident_table = Table([[ident, qr]], colWidths=[WIDTH - 34 * mm, 34 * mm])
    ident_table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                     ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                                     ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))

    def party(p, zh, en):
        return _facts([
            (zh, en, f"{p.agency_zh}<br/><font size=7 color='#8a97a6'>{p.agency_en}</font>"),
            ("统一社会信用代码", "Credit code", p.agency_code),
            ("行政区", "Jurisdiction", f"{p.jurisdiction_zh} ({p.jurisdiction_code})"),
        ], s, label_width=26 * mm)

    story = [ident_table, Spacer(1, 3 * mm),
             Paragraph("一、调拨双方 Parties", s["h2"]),
             _side_by_side(party(data.giver, "调出单位", "Giving agency"),
                           party(data.receiver, "调入单位", "Receiving agency")),
             Paragraph("二、调拨物品 Items", s["h2"])]
    rows = [_header([("名称", "Description"), ("分类", "Class"), ("数量", "Qty"), ("单位", "Unit"),
                     ("原值单价 (元)", "Unit value CNY"), ("原值合计 (元)", "Value CNY"), ("状况", "Condition")], s)]
    for item in data.items:
        rows.append([Paragraph(item.description, s["cell"]), Paragraph(item.asset_class, s["cell"]),
                     str(item.quantity), item.unit, money(item.unit_value), money(item.value), item.condition])
    rows.append([Paragraph("合计 Total", s["cell"]), "", str(sum(i.quantity for i in data.items)), "", "",
                 money(data.total_value), ""])
    items = _table(rows, [52 * mm, 34 * mm, 12 * mm, 12 * mm, 24 * mm, 24 * mm, WIDTH - 158 * mm],
                   numeric_cols=(2, 4, 5), zebra=False)
    items.setStyle(TableStyle([("BACKGROUND", (0, -1), (-1, -1), HEAD_BG)]))
    story += [items, Spacer(1, 2 * mm), Paragraph(
        f"分配时间 Allocated: {when(data.allocated_at)}　　审批通过 Approved: {when(data.approved_at)}　　"
        f"运距 Distance: {number(data.distance_km)} km", s["cell"])]

    story.append(Paragraph("三、并联审批 Parallel approvals", s["h2"]))
    rows = [_header([("审批环节", "Step"), ("结果", "Decision"), ("责任人", "Responsible"), ("审批人", "Decided by"),
                     ("审批时间", "Decided at"), ("时限", "Due"), ("时效", "On time")], s)]
    for a in data.approvals:
        rows.append([Paragraph(f"{a.step_zh}<br/><font size=6.5 color='#8a97a6'>{a.step_en}</font>", s["cell"]),
                     a.decision_zh, a.responsible or "—", a.decided_by or "—", when(a.decided_at), when(a.due_at),
                     {True: "按时 on time", False: "超时 overdue", None: "—"}[a.on_time]])
    story.append(_table(rows, [40 * mm, 22 * mm, 22 * mm, 22 * mm, 26 * mm, 26 * mm, WIDTH - 158 * mm])
                 if data.approvals
                 else _empty(s, "无审批记录 No approval steps."))

    story.append(Paragraph("四、交接验收 Handover and acceptance", s["h2"]))
    pairs = [("实收数量", "Quantity received", "—" if data.received_quantity is None else data.received_quantity),
             ("验收状况", "Condition received", data.received_condition or "—"),
             ("确认人/责任人", "By / responsible",
              f"{data.handover_confirmed_by or '—'} / {data.handover_responsible or '—'}"),
             ("完成/时限", "Done / due", f"{when(data.completed_at)} / {when(data.handover_due_at)}")]
    story.append(_side_by_side(_facts(pairs[:2], s, label_width=28 * mm), _facts(pairs[2:], s, label_width=28 * mm)))

    story.append(Paragraph("五、补偿明细 Compensation", s["h2"]))
    if data.compensation:
        rows = [_header([("项目", "Component"), ("金额 (元)", "Amount CNY")], s)]
        rows += [[Paragraph(f"{c.label_zh} <font color='#8a97a6'>{c.label_en}</font>", s["cell"]), money(c.amount)]
                 for c in data.compensation]
        rows.append([Paragraph("补偿合计 Total (调入方付 调出方收 receiver pays giver)", s["cell"]),
                     money(data.compensation_total)])
        table = _table(rows, [WIDTH - 40 * mm, 40 * mm], numeric_cols=(1,), zebra=False)
        table.setStyle(TableStyle([("BACKGROUND", (0, -1), (-1, -1), HEAD_BG)]))
        story.append(table)
    if data.compensation_note:
        story.append(Paragraph(data.compensation_note, s["small"]))

    story += [Spacer(1, 4 * mm), _side_by_side(
        Paragraph("调出单位（盖章）Giving agency (seal)<br/><br/>日期 Date：", s["cell"]),
        Paragraph("调入单位（盖章）Receiving agency (seal)<br/><br/>日期 Date：", s["cell"]))]
    return _build(data, story, "公物仓资产调拨单", "Shared Warehouse Transfer Certificate", generated_at)


# --- period allocation report ---------------------------------------------------------------------
def render_allocation_report(data: AllocationReport, generated_at=None) -> bytes:
    register_font()
    s = _styles()
    h = data.heading
    story = [_facts([
        ("范围", "Scope", f"{h.scope_zh} {h.scope_en}"),
        ("统计期间", "Period", period(h)),
        ("调拨笔数", "Transfers", f"{data.transfers:,}"),
        ("已完成", "Completed", f"{data.completed:,}"),
        ("调拨原值合计 (元)", "Value moved CNY", money(data.value)),
        ("平均办结天数", "Avg. turnaround (days)", number(data.avg_turnaround_days)),
    ], s, label_width=40 * mm, width=WIDTH * 0.7)]
    story.append(Paragraph("一、图表 Charts", s["h2"]))
    if data.months:
        story.append(_bar_chart("各月调拨笔数 Transfers per month", [m.month for m in data.months],
                                [[m.transfers for m in data.months]], fmt=lambda v: f"{v:,.0f}"))
        story.append(Spacer(1, 3 * mm))
        story.append(_bar_chart("各月平均办结天数 Average turnaround (days) per month",
                                [m.month for m in data.months],
                                [[m.avg_turnaround_days or 0 for m in data.months]], fmt=lambda v: f"{v:.1f}"))
    if data.jurisdictions:
        top = sorted(data.jurisdictions, key=lambda j: j.value_out + j.value_in, reverse=True)[:12]
        height = max(50 * mm, (len(top) * 11 + 40))
        story.append(Spacer(1, 3 * mm))
        story.append(_bar_chart("各地区调拨原值 Value moved per jurisdiction (CNY)",
                                [j.jurisdiction for j in reversed(top)],
                                [[j.value_out for j in reversed(top)], [j.value_in for j in reversed(top)]],
                                names=("调出 given", "调入 received"), horizontal=True, height=height, fmt=_short))
    if not data.months:
        story.append(_empty(s))

    story.append(CondPageBreak(60 * mm))
    story.append(Paragraph("二、地区间流向 Flows between jurisdictions", s["h2"]))
    rows = [_header([("调出地区", "From"), ("调入地区", "To"), ("笔数", "Transfers"), ("原值 (元)", "Value CNY")], s)]
    rows += [[f.giver_jurisdiction, f.receiver_jurisdiction, f"{f.transfers:,}", money(f.value)] for f in data.flows]
    story.append(_table(rows, [WIDTH * 0.32, WIDTH * 0.32, WIDTH * 0.14, WIDTH * 0.22], numeric_cols=(2, 3),
                        long=True) if data.flows else _empty(s))
    story.append(Paragraph("三、各地区汇总 Per jurisdiction", s["h2"]))
    rows = [_header([("地区", "Jurisdiction"), ("调出笔数", "Out"), ("调出原值 (元)", "Value out CNY"),
                     ("调入笔数", "In"), ("调入原值 (元)", "Value in CNY")], s)]
    rows += [[j.jurisdiction, f"{j.transfers_out:,}", money(j.value_out), f"{j.transfers_in:,}", money(j.value_in)]
             for j in data.jurisdictions]
    story.append(_table(rows, [WIDTH * 0.32, WIDTH * 0.12, WIDTH * 0.22, WIDTH * 0.12, WIDTH * 0.22],
                        numeric_cols=(1, 2, 3, 4), long=True) if data.jurisdictions else _empty(s))

    story.append(CondPageBreak(40 * mm))
    story.append(Paragraph(f"四、调拨明细 All transfers in the period ({len(data.rows):,})", s["h2"]))
    header = ["编号\nNo.", "分配日期\nAllocated", "完成日期\nCompleted", "调出地区\nFrom", "调入地区\nTo",
              "调出单位 → 调入单位\nGiver → receiver", "物品\nItem", "数量\nQty", "原值(元)\nValue CNY",
              "状态\nStatus", "天数\nDays"]
    widths = [11 * mm, 16 * mm, 16 * mm, 14 * mm, 14 * mm, 40 * mm, 22 * mm, 8 * mm, 18 * mm, 11 * mm, 8 * mm]
    body = [[str(r.transfer_id), r.allocated_on.isoformat(), r.completed_on.isoformat() if r.completed_on else "—",
             _clip(r.giver_jurisdiction, 5), _clip(r.receiver_jurisdiction, 5),
             _clip(f"{r.giver}→{r.receiver}", 15), _clip(r.item, 8), str(r.quantity), money(r.value),
             r.status_zh.split(" ")[0], number(r.turnaround_days, 0)] for r in data.rows]
    if not body:
        story.append(_empty(s))
    for start in range(0, len(body), ROWS_PER_TABLE):
        story.append(_table([header] + body[start:start + ROWS_PER_TABLE], widths, numeric_cols=(0, 7, 8, 10),
                            long=True, font_size=6.5))
    return _build(data, story, "公物仓调剂调拨情况报告", "Period Allocation Report", generated_at)


def _clip(text, n):
    """Cut text to n characters (East Asian characters count double width budget) for fixed columns."""
    width = 0
    for i, ch in enumerate(text):
        width += 2 if ord(ch) > 0x2E80 else 1
        if width > 2 * n:
            return text[:i] + "…"
    return text


# --- settlement statement -------------------------------------------------------------------------
def render_settlement_statement(data: SettlementStatement, generated_at=None) -> bytes:
    register_font()
    s = _styles()
    h = data.heading
    story = [_facts([("范围", "Scope", f"{h.scope_zh} {h.scope_en}"), ("结算期间", "Period", period(h)),
                     ("期间状态", "Period status", data.period_status_zh)], s, label_width=30 * mm,
                    width=WIDTH * 0.7)]
    story.append(Paragraph("一、期末余额 Closing balances", s["h2"]))
    rows = [_header([("账户", "Account"), ("期初 (元)", "Opening"), ("借方 (元)", "Debits"), ("贷方 (元)", "Credits"),
                     ("期末 (元)", "Closing")], s, right=(1, 2, 3, 4))]
    rows += [[Paragraph(b.account, s["cell"]), money(b.opening), money(b.debits), money(b.credits), money(b.closing)]
             for b in data.balances]
    if data.balances:
        rows.append(["合计 Total", money(sum(b.opening for b in data.balances)),
                     money(sum(b.debits for b in data.balances)), money(sum(b.credits for b in data.balances)),
                     money(sum(b.closing for b in data.balances))])
    story.append(_table(rows, [WIDTH * 0.32] + [WIDTH * 0.17] * 4, numeric_cols=(1, 2, 3, 4), long=True)
                 if data.balances else _empty(s))
    story.append(Paragraph("二、轧差支付指令 Netted payment instructions", s["h2"]))
    rows = [_header([("付款方", "Payer"), ("收款方", "Payee"), ("金额 (元)", "Amount CNY"), ("状态", "Status")], s,
                    right=(2,))]
    rows += [[Paragraph(p.payer, s["cell"]), Paragraph(p.payee, s["cell"]), money(p.amount),
              Paragraph(p.status_zh, s["cell"])] for p in data.payments]
    story.append(_table(rows, [WIDTH * 0.26, WIDTH * 0.26, WIDTH * 0.18, WIDTH * 0.30], numeric_cols=(2,))
                 if data.payments else _empty(s, "无需支付 No payments are due."))
    story.append(Paragraph(f"三、记账明细 Postings ({len(data.postings):,})", s["h2"]))
    rows = [_header([("日期", "Date"), ("凭证", "Reference"), ("账户", "Account"), ("摘要", "Description"),
                     ("借方 (元)", "Debit"), ("贷方 (元)", "Credit")], s, right=(4, 5))]
    rows += [[p.posted_on.isoformat(), _clip(p.reference, 8), _clip(p.account, 10), _clip(p.description, 18),
              money(p.debit) if p.debit else "", money(p.credit) if p.credit else ""] for p in data.postings]
    for start in range(1, max(len(rows), 2), ROWS_PER_TABLE):
        chunk = [rows[0]] + rows[start:start + ROWS_PER_TABLE]
        if len(chunk) > 1:
            story.append(_table(chunk, [20 * mm, 24 * mm, 30 * mm, WIDTH - 122 * mm, 24 * mm, 24 * mm],
                                numeric_cols=(4, 5), long=True, font_size=7))
    if not data.postings:
        story.append(_empty(s))
    return _build(data, story, "区域利益补偿结算单", "Settlement Statement", generated_at)


# --- performance scorecard ------------------------------------------------------------------------
def render_scorecard(data: Scorecard, generated_at=None) -> bytes:
    register_font()
    s = _styles()
    h = data.heading
    story = [_facts([("范围", "Scope", f"{h.scope_zh} {h.scope_en}"), ("评估期间", "Period", period(h)),
                     ("参评地区", "Jurisdictions", len(data.lines))], s, label_width=30 * mm,
                    width=WIDTH * 0.7)]
    story.append(Paragraph("一、绩效指标 Indicators", s["h2"]))
    rows = [_header([("地区", "Jurisdiction"), ("挂牌", "Listed"), ("调入", "Taken"), ("调出", "Given"),
                     ("节约 (元)", "Saved CNY"), ("闲置率", "Idle rate"), ("审批均天", "Days/step"),
                     ("红灯占比", "Red steps"), ("用房 m²", "Office m²")], s)]
    for line in data.lines:
        rows.append([Paragraph(line.jurisdiction, s["cell"]), f"{line.items_listed:,}", f"{line.items_taken:,}",
                     f"{line.items_given:,}", money(line.value_saved), percent(line.idle_rate),
                     number(line.avg_step_days), percent(line.red_share), number(line.office_m2, 2)])
    story.append(_table(rows, [34 * mm, 14 * mm, 14 * mm, 14 * mm, 28 * mm, 18 * mm, 18 * mm, 18 * mm,
                               WIDTH - 158 * mm], numeric_cols=range(1, 9), long=True)
                 if data.lines else _empty(s))
    if data.lines:
        shown = data.lines[:14]
        story.append(Paragraph("二、图表 Charts", s["h2"]))
        story.append(_bar_chart("节约购置资金 Value saved versus buying new (CNY)", [x.jurisdiction for x in shown],
                                [[x.value_saved for x in shown]], fmt=_short))
        story.append(Spacer(1, 3 * mm))
        story.append(_bar_chart("审批平均天数与红灯占比 Average days per approval step / red share (%)",
                                [x.jurisdiction for x in shown],
                                [[x.avg_step_days or 0 for x in shown], [(x.red_share or 0) * 100 for x in shown]],
                                names=("天数 days", "红灯 % red"), fmt=lambda v: f"{v:.1f}"))
    story.append(Paragraph("三、口径说明 Definitions", s["h2"]))
    for note in data.notes:
        story.append(Paragraph(note, s["small"]))
    return _build(data, story, "公物仓绩效评估表", "Performance Scorecard", generated_at)


RENDERERS = {
    "transfer_certificate": render_transfer_certificate,
    "allocation_report": render_allocation_report,
    "settlement_statement": render_settlement_statement,
    "scorecard": render_scorecard,
}


def render(data, generated_at=None) -> bytes:
    return RENDERERS[data.kind](data, generated_at=generated_at)
