"""调拨凭证 The transfer certificate: parties, items, approvals, handover and compensation, with the QR
code of its public verify link."""

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from ..data import TransferCertificate
from . import kit
from .kit import FONT, HEAD_BG, WIDTH, money, number, register_font, when


def render_transfer_certificate(data: TransferCertificate, generated_at=None) -> bytes:
    register_font()
    s = kit.styles()
    code = data.certificate_code
    display_code = "-".join(code[i:i + 4] for i in range(0, len(code), 4))
    qr = Drawing(30 * mm, 30 * mm)
    widget = QrCodeWidget(data.verify_url, barWidth=30 * mm, barHeight=30 * mm, barBorder=1)
    qr.add(widget)
    ident = kit.facts([
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
        return kit.facts([
            (zh, en, f"{p.agency_zh}<br/><font size=7 color='#8a97a6'>{p.agency_en}</font>"),
            ("统一社会信用代码", "Credit code", p.agency_code),
            ("行政区", "Jurisdiction", f"{p.jurisdiction_zh} ({p.jurisdiction_code})"),
        ], s, label_width=26 * mm)

    story = [ident_table, Spacer(1, 3 * mm),
             Paragraph("一、调拨双方 Parties", s["h2"]),
             kit.side_by_side(party(data.giver, "调出单位", "Giving agency"),
                              party(data.receiver, "调入单位", "Receiving agency")),
             Paragraph("二、调拨物品 Items", s["h2"])]
    rows = [kit.header([("名称", "Description"), ("分类", "Class"), ("数量", "Qty"), ("单位", "Unit"),
                     ("原值单价 (元)", "Unit value CNY"), ("原值合计 (元)", "Value CNY"), ("状况", "Condition")], s)]
    for item in data.items:
        rows.append([Paragraph(item.description, s["cell"]), Paragraph(item.asset_class, s["cell"]),
                     str(item.quantity), item.unit, money(item.unit_value), money(item.value), item.condition])
    rows.append([Paragraph("合计 Total", s["cell"]), "", str(sum(i.quantity for i in data.items)), "", "",
                 money(data.total_value), ""])
    items = kit.table(rows, [52 * mm, 34 * mm, 12 * mm, 12 * mm, 24 * mm, 24 * mm, WIDTH - 158 * mm],
                      numeric_cols=(2, 4, 5), zebra=False)
    items.setStyle(TableStyle([("BACKGROUND", (0, -1), (-1, -1), HEAD_BG)]))
    story += [items, Spacer(1, 2 * mm), Paragraph(
        f"分配时间 Allocated: {when(data.allocated_at)}　　审批通过 Approved: {when(data.approved_at)}　　"
        f"运距 Distance: {number(data.distance_km)} km", s["cell"])]

    story.append(Paragraph("三、并联审批 Parallel approvals", s["h2"]))
    rows = [kit.header([("审批环节", "Step"), ("结果", "Decision"), ("责任人", "Responsible"), ("审批人", "Decided by"),
                     ("审批时间", "Decided at"), ("时限", "Due"), ("时效", "On time")], s)]
    for a in data.approvals:
        rows.append([Paragraph(f"{a.step_zh}<br/><font size=6.5 color='#8a97a6'>{a.step_en}</font>", s["cell"]),
                     a.decision_zh, a.responsible or "—", a.decided_by or "—", when(a.decided_at), when(a.due_at),
                     {True: "按时 on time", False: "超时 overdue", None: "—"}[a.on_time]])
    story.append(kit.table(rows, [40 * mm, 22 * mm, 22 * mm, 22 * mm, 26 * mm, 26 * mm, WIDTH - 158 * mm])
                 if data.approvals
                 else kit.empty(s, "无审批记录 No approval steps."))

    story.append(Paragraph("四、交接验收 Handover and acceptance", s["h2"]))
    pairs = [("实收数量", "Quantity received", "—" if data.received_quantity is None else data.received_quantity),
             ("验收状况", "Condition received", data.received_condition or "—"),
             ("确认人/责任人", "By / responsible",
              f"{data.handover_confirmed_by or '—'} / {data.handover_responsible or '—'}"),
             ("完成/时限", "Done / due", f"{when(data.completed_at)} / {when(data.handover_due_at)}")]
    story.append(kit.side_by_side(kit.facts(pairs[:2], s, label_width=28 * mm),
                                  kit.facts(pairs[2:], s, label_width=28 * mm)))

    story.append(Paragraph("五、补偿明细 Compensation", s["h2"]))
    if data.compensation:
        rows = [kit.header([("项目", "Component"), ("金额 (元)", "Amount CNY")], s)]
        rows += [[Paragraph(f"{c.label_zh} <font color='#8a97a6'>{c.label_en}</font>", s["cell"]), money(c.amount)]
                 for c in data.compensation]
        rows.append([Paragraph("补偿合计 Total (调入方付 调出方收 receiver pays giver)", s["cell"]),
                     money(data.compensation_total)])
        table = kit.table(rows, [WIDTH - 40 * mm, 40 * mm], numeric_cols=(1,), zebra=False)
        table.setStyle(TableStyle([("BACKGROUND", (0, -1), (-1, -1), HEAD_BG)]))
        story.append(table)
    if data.compensation_note:
        story.append(Paragraph(data.compensation_note, s["small"]))

    story += [Spacer(1, 4 * mm), kit.side_by_side(
        Paragraph("调出单位（盖章）Giving agency (seal)<br/><br/>日期 Date：", s["cell"]),
        Paragraph("调入单位（盖章）Receiving agency (seal)<br/><br/>日期 Date：", s["cell"]))]
    return kit.build(data, story, "公物仓资产调拨单", "Shared Warehouse Transfer Certificate", generated_at)
