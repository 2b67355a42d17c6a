"""The purchase-check document (购置前调剂审查单), A4 PDF with reportlab, bilingual like the other documents:
the agency attaches it to its procurement file. A pure function of the PurchaseRequest row."""
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.render import FONT, register_font

SHANGHAI = ZoneInfo("Asia/Shanghai")
INK, RULE, HEAD_BG = colors.HexColor("#1f2d3d"), colors.HexColor("#8a97a6"), colors.HexColor("#e4eaf1")
OK, FAIL = colors.HexColor("#3a7d44"), colors.HexColor("#b22222")
WIDTH = A4[0] - 32 * mm

OUTCOME = {
    "refused": ("不予购置：不符合配置标准", "Refused: the standards do not allow this purchase"),
    "take_instead": ("先调剂：请改用公物仓中的下列资产；如确需购置，须经区域协调机构批准例外",
                     "Reallocate first: take the warehouse items below instead; buying needs a coordinator's "
                     "exception"),
    "may_buy": ("可以购置：公物仓中没有合适的闲置资产", "May buy: the warehouse holds no suitable idle item"),
    "exception_granted": ("例外已批准：可以购置", "Exception granted: may buy"),
}
CHECK = {
    "standard": ("配置标准", "Standard"), "price_cap": ("价格上限", "Price cap"),
    "quota_per_head": ("人均数量定额", "Quota per head"),
    "min_service_life": ("被替换资产最低使用年限", "Minimum service life"),
    "warehouse": ("公物仓调剂", "Warehouse"),
}
CONDITION = {"new": "全新 new", "good": "良好 good", "fair": "一般 fair", "poor": "较差 poor"}


def _styles():
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=13, textColor=INK, wordWrap="CJK")
    return {"base": base, "cell": ParagraphStyle("cell", base, fontSize=8, leading=10.5),
            "title": ParagraphStyle("title", base, fontSize=17, leading=23, alignment=TA_CENTER),
            "subtitle": ParagraphStyle("subtitle", base, fontSize=10, leading=14, alignment=TA_CENTER, textColor=RULE),
            "h2": ParagraphStyle("h2", base, fontSize=11, leading=15, spaceBefore=7, spaceAfter=3),
            "small": ParagraphStyle("small", base, fontSize=7.5, leading=10, textColor=RULE)}


def _grid(rows, widths, header=True):
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("FONT", (0, 0), (-1, -1), FONT, 8), ("GRID", (0, 0), (-1, -1), 0.4, RULE),
             ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    table.setStyle(TableStyle(style))
    return table


def _when(value):
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "—"


def render_purchase_check(purchase, generated_at=None) -> bytes:
    register_font()
    s = _styles()
    p = lambda text, style="cell": Paragraph(str(text), s[style])  # noqa: E731 - a local shorthand
    generated_at = generated_at or datetime.now(SHANGHAI)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"购置前调剂审查单 Purchase check {purchase.code}",
                            author=purchase.region.name_zh, creator="Gongwucang 公物仓", initialFontName=FONT)
    agency, ss, cls = purchase.agency, purchase.standard_set, purchase.asset_class
    zh, en = OUTCOME[purchase.outcome]
    color = OK if purchase.outcome in ("may_buy", "exception_granted") else FAIL
    facts = [
        ("编号 Number", purchase.code), ("日期 Date", _when(purchase.created_at)),
        ("申请单位 Agency", f"{agency.name_zh}（{agency.jurisdiction.name_zh}）"),
        ("资产分类 Class", f"{cls.code} {cls.name_zh} {cls.name_en}"),
        ("数量 Quantity", str(purchase.quantity)), ("单价 Unit price", f"{purchase.unit_price:,.2f} 元 CNY"),
        ("金额 Total", f"{purchase.total:,.2f} 元 CNY"), ("理由 Reason", purchase.reason),
        ("适用标准 Standard applied", f"{ss.title}（{ss.effective_from:%Y-%m-%d} 起施行）{ss.source}"),
    ]
    replaced = list(purchase.replaces.all())
    if replaced:
        facts.append(("被替换资产 Items replaced", "；".join(f"{a.description}（{a.acquired_on:%Y-%m-%d} 购置）"
                                                      for a in replaced)))
    if purchase.damaged_beyond_repair:
        facts.append(("损坏鉴定 Damage assessment", purchase.damage_note))
    story = [p("购置前调剂审查单", "title"), p("Purchase check · 先调剂后购置 reallocate before buying", "subtitle"),
             Spacer(1, 3 * mm), _grid([[p(k), p(v)] for k, v in facts], [38 * mm, WIDTH - 38 * mm], header=False),
             p("审查结论 Outcome", "h2"),
             Paragraph(f'<font color="#{color.hexval()[2:]}">{zh}<br/>{en}</font>',
                       ParagraphStyle("outcome", s["base"], fontSize=11, leading=15)),
             p("逐项审查 Checks, in order", "h2")]
    rows = [[p("#"), p("审查项 Check"), p("结果 Result"), p("说明 Reason")]]
    for i, check in enumerate(purchase.checks, 1):
        name_zh, name_en = CHECK.get(check["check"], (check["check"], ""))
        result = "通过 pass" if check["ok"] else ("有可调剂资产 warehouse holds" if check["check"] == "warehouse"
                                                 else "不通过 fail")
        rows.append([p(i), p(f"{name_zh}<br/>{name_en}"), p(result),
                     p(f"{check['message_zh']}<br/>{check['message_en']}")])
    story.append(_grid(rows, [8 * mm, 34 * mm, 26 * mm, WIDTH - 68 * mm]))
    story.append(p("公物仓可调剂资产（由近及远） Warehouse items, nearest first", "h2"))
    if purchase.matches:
        rows = [[p("挂牌<br/>Listing"), p("物品<br/>Item"), p("调出单位<br/>Agency"), p("可调剂<br/>Available"),
                 p("成色<br/>Condition"), p("距离<br/>km"), p("调剂期截止<br/>Window ends")]]
        for m in purchase.matches:
            ends = datetime.fromisoformat(m["window_ends_at"])
            rows.append([p(f"#{m['listing']}"), p(m["title"]), p(m["agency"]), p(m["available"]),
                         p(CONDITION.get(m["condition"], m["condition"])), p(m["km"]), p(_when(ends))])
        story.append(_grid(rows, [15 * mm, 46 * mm, 38 * mm, 17 * mm, 19 * mm, 14 * mm, WIDTH - 149 * mm]))
    else:
        story.append(p("无 None", "base"))
    if purchase.exception_at:
        story += [p("例外批准 Exception", "h2"), _grid([
            [p("批准人 By"), p(purchase.exception_by.get_username() if purchase.exception_by else "—")],
            [p("时间 At"), p(_when(purchase.exception_at))],
            [p("理由 Justification"), p(purchase.exception_justification)],
        ], [38 * mm, WIDTH - 38 * mm], header=False)]
    story += [Spacer(1, 5 * mm),
              p(f"依据：财资〔2016〕27号 最低使用年限与配置标准；先调剂后购置。"
                f"本单由公物仓系统生成（{_when(generated_at)}），可凭编号 {purchase.code} 在系统中核对。"
                " Generated by Gongwucang; verify by its number.", "small")]
    doc.build(story)
    return buffer.getvalue()
