"""结算单 The settlement statement: balances, netting and payment instructions of a period."""

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Paragraph

from ..data import SettlementStatement
from . import kit
from .kit import ROWS_PER_TABLE, WIDTH, money, period, register_font


def render_settlement_statement(data: SettlementStatement, generated_at=None) -> bytes:
    register_font()
    s = kit.styles()
    h = data.heading
    facts = [("范围", "Scope", f"{h.scope_zh} {h.scope_en}"), ("结算期间", "Period", period(h)),
             ("期间状态", "Period status", data.period_status_zh)]
    if data.audit_anchor:
        facts.append(("留痕锚点", "Audit checkpoint", data.audit_anchor))
    story = [kit.facts(facts, s, label_width=30 * mm, width=WIDTH * 0.7 if not data.audit_anchor else WIDTH)]
    story.append(Paragraph("一、期末余额 Closing balances", s["h2"]))
    rows = [kit.header([("账户", "Account"), ("期初 (元)", "Opening"), ("借方 (元)", "Debits"),
                        ("贷方 (元)", "Credits"), ("期末 (元)", "Closing")], s, right=(1, 2, 3, 4))]
    rows += [[Paragraph(b.account, s["cell"]), money(b.opening), money(b.debits), money(b.credits), money(b.closing)]
             for b in data.balances]
    if data.balances:
        rows.append(["合计 Total", money(sum(b.opening for b in data.balances)),
                     money(sum(b.debits for b in data.balances)), money(sum(b.credits for b in data.balances)),
                     money(sum(b.closing for b in data.balances))])
    story.append(kit.table(rows, [WIDTH * 0.32] + [WIDTH * 0.17] * 4, numeric_cols=(1, 2, 3, 4), long=True)
                 if data.balances else kit.empty(s))
    story.append(Paragraph("二、轧差支付指令 Netted payment instructions", s["h2"]))
    rows = [kit.header([("付款方", "Payer"), ("收款方", "Payee"), ("金额 (元)", "Amount CNY"), ("状态", "Status")], s,
                       right=(2,))]
    rows += [[Paragraph(p.payer, s["cell"]), Paragraph(p.payee, s["cell"]), money(p.amount),
              Paragraph(p.status_zh, s["cell"])] for p in data.payments]
    story.append(kit.table(rows, [WIDTH * 0.26, WIDTH * 0.26, WIDTH * 0.18, WIDTH * 0.30], numeric_cols=(2,))
                 if data.payments else kit.empty(s, "无需支付 No payments are due."))
    story.append(CondPageBreak(40 * mm))
    story.append(Paragraph(f"三、记账明细 Postings ({len(data.postings):,})", s["h2_long"]))
    rows = [kit.header([("日期", "Date"), ("凭证", "Reference"), ("账户", "Account"), ("摘要", "Description"),
                     ("借方 (元)", "Debit"), ("贷方 (元)", "Credit")], s, right=(4, 5))]
    widths = [20 * mm, 24 * mm, 30 * mm, WIDTH - 122 * mm, 24 * mm, 24 * mm]
    rows += [[p.posted_on.isoformat(), kit.fit(p.reference, widths[1], 7), kit.fit(p.account, widths[2], 7),
              kit.fit(p.description, widths[3], 7), money(p.debit) if p.debit else "",
              money(p.credit) if p.credit else ""] for p in data.postings]
    for start in range(1, max(len(rows), 2), ROWS_PER_TABLE):
        chunk = [rows[0]] + rows[start:start + ROWS_PER_TABLE]
        if len(chunk) > 1:
            story.append(kit.table(chunk, widths, numeric_cols=(4, 5), long=True, font_size=7))
    if not data.postings:
        story.append(kit.empty(s))
    return kit.build(data, story, "区域利益补偿结算单", "Settlement Statement", generated_at)
