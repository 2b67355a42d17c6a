"""The kit every document is drawn with: the embedded CJK font, styles, number formats, page furniture
(header, "第 x / y 页" footer, data checksum) and building blocks (tables, fact blocks, bar charts)."""
import io
import os
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

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
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import CellStyle

from ..data import data_sha256

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
PADDING = 3  # points left and right of a table cell's text
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


def styles():
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontSize=18, leading=24, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=10, leading=14, alignment=TA_CENTER,
                                   textColor=RULE),
        "h2": ParagraphStyle("h2", base, fontSize=11.5, leading=16, spaceBefore=6, spaceAfter=3, keepWithNext=1),
        # before a long table, after a CondPageBreak: kept with the table, the heading would take the whole first
        # chunk of rows to the next page and leave this one blank
        "h2_long": ParagraphStyle("h2_long", base, fontSize=11.5, leading=16, spaceBefore=6, spaceAfter=3),
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


def build(data, story, title_zh, title_en, generated_at):
    register_font()
    s = styles()
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
class _SharedCellStyle(CellStyle):
    """A cell style that many cells hold at once (the Table's `cellStyles`), frozen once made: a per-cell
    TableStyle command (FONT, ALIGN, TEXTCOLOR, ...) on a kit table would restyle every cell sharing it, so it
    raises instead."""

    def __init__(self, font_size, alignment):
        super().__init__(f"kit-{font_size}-{alignment}")
        self.fontname, self.fontsize, self.leading = FONT, font_size, font_size * 1.2
        self.color, self.alignment, self.valign = INK, alignment, "MIDDLE"
        self.topPadding, self.bottomPadding = 1.5, 2
        self.leftPadding = self.rightPadding = PADDING
        self._frozen = True

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise TypeError("kit.table cells share their style: style them through kit.table's arguments, "
                            "not with per-cell TableStyle commands")
        super().__setattr__(name, value)


def table(rows, widths, *, header_rows=1, numeric_cols=(), long=False, zebra=True, font_size=8):
    """A grid table; header rows shaded and repeated on every page; numeric columns right-aligned.

    The cells' font, colour, padding and alignment are set by handing reportlab one shared style per kind of
    cell (header, body left, body right) rather than by per-cell commands, which reportlab applies cell by
    cell (8 commands × 11 columns × 10,000 rows for the allocation report's detail)."""
    cls = LongTable if long else Table
    left, right = _SharedCellStyle(font_size, "LEFT"), _SharedCellStyle(font_size, "RIGHT")
    body = [right if col in numeric_cols else left for col in range(len(widths))]
    cell_styles = [[left] * len(widths) for _ in range(header_rows)] + [body] * (len(rows) - header_rows)
    heights = None
    if all(isinstance(cell, str) and "\n" not in cell for row in rows[header_rows:] for cell in row):
        # one line of text in every body cell: every body row is as high, so reportlab need not measure them
        line = left.leading + left.topPadding + left.bottomPadding
        heights = [None] * header_rows + [line] * (len(rows) - header_rows)
    table = cls(rows, colWidths=widths, rowHeights=heights, repeatRows=header_rows, cellStyles=cell_styles)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
    ]
    if zebra:
        # One command for every body row (not one BACKGROUND per row: reportlab applies each to each row).
        style.append(("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [None, ZEBRA]))
    table.setStyle(TableStyle(style))
    return table


def header(zh_en_pairs, s, right=()):
    """Bilingual header cells; the columns in `right` (numeric ones) right-aligned like their figures."""
    right_style = ParagraphStyle("cell_right", s["cell"], alignment=TA_RIGHT)
    return [Paragraph(f"{zh}<br/><font size=6.5 color='#8a97a6'>{en}</font>", right_style if i in right else s["cell"])
            for i, (zh, en) in enumerate(zh_en_pairs)]


def facts(pairs, s, label_width=34 * mm, width=WIDTH / 2 - 2 * mm):
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


def side_by_side(left, right):
    table = Table([[left, right]], colWidths=[WIDTH / 2, WIDTH / 2])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def bar_chart(title, labels, series, *, names=(), horizontal=False, width=WIDTH, height=62 * mm, fmt=str):
    """A titled bar chart with reportlab graphics; `series` is a list of value lists (one per colour).
    Without any non-zero value, a one-line "no data" note replaces the empty axes."""
    if not any(v for serie in series for v in serie):
        return Paragraph(f"{title}：本期无数据 no data for this period.", styles()["cell"])
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
    axis_val.labelTextFormat = lambda v: short(v)
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


def short(value):
    value = float(value)
    if abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def empty(s, text="本期无数据 No data for this period."):
    return Paragraph(text, s["small"])



def fit(text, width, font_size):
    """`text` as it fits a column `width` points wide (padding included) in the kit font at `font_size`:
    whole, or cut with "…" so that it never runs over into the next cell."""
    font = pdfmetrics.getFont(FONT)
    room = width - 2 * PADDING
    if font.stringWidth(text, font_size) <= room:
        return text
    room -= font.stringWidth("…", font_size)
    for i, ch in enumerate(text):
        room -= font.stringWidth(ch, font_size)
        if room < 0:
            return text[:i] + "…"
    return text


def fit_pair(first, second, width, font_size, arrow="→"):
    """"first→second" fitted to a column, each side keeping at least half of it when both must be cut."""
    whole = f"{first}{arrow}{second}"
    font = pdfmetrics.getFont(FONT)
    room = width - 2 * PADDING
    if font.stringWidth(whole, font_size) <= room:
        return whole
    side = (width - font.stringWidth(arrow, font_size)) / 2 + PADDING
    first = fit(first, side, font_size)
    rest = width - font.stringWidth(first + arrow, font_size)
    return f"{first}{arrow}{fit(second, rest, font_size)}"
