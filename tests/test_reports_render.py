"""Renderers: pure (no database), Chinese text and figures extractable, CJK font embedded, page numbers,
data checksum on the last page, long tables paginate."""
import dataclasses
import subprocess
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from reports import render, samples
from reports.data import canonical_json, data_sha256

GENERATED = datetime(2026, 4, 1, 9, 15, tzinfo=ZoneInfo("Asia/Shanghai"))


def pdf_text(pdf: bytes, tmp_path, name="doc", first=None, last=None) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdf_pages(pdf: bytes, tmp_path, name="doc") -> int:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(samples.SAMPLES))
def test_render_touches_no_database(kind, django_assert_num_queries):
    data = samples.SAMPLES[kind]()
    with django_assert_num_queries(0):
        pdf = render.render(data, generated_at=GENERATED)
    assert pdf.startswith(b"%PDF-")


def test_certificate_text_and_figures(tmp_path):
    data = samples.certificate()
    text = pdf_text(render.render(data, generated_at=GENERATED), tmp_path)
    for expected in ("公物仓资产调拨单", "Shared Warehouse Transfer Certificate", "长三角区域", "上海市统计局",
                     "杭州市教育局", "联想启天 M430 台式计算机", "54,000.00", "17,972.90", "K7Q3-M9XH-2PRT",
                     "调出方机关事务管理局", "sh_bureau", "超时 overdue", "hz_edu", "第 1 / 1 页",
                     "2026-04-01 09:15:00 (Asia/Shanghai)", data_sha256(data)):
        assert expected in text, expected


def test_every_page_is_numbered_x_of_y_and_checksum_is_on_the_last_page(tmp_path):
    data = samples.allocation(300)
    pdf = render.render(data, generated_at=GENERATED)
    pages = pdf_pages(pdf, tmp_path)
    assert pages > 3
    for page in range(1, pages + 1):
        assert f"第 {page} / {pages} 页" in pdf_text(pdf, tmp_path, first=page, last=page)
    assert data_sha256(data) in pdf_text(pdf, tmp_path, first=pages, last=pages)
    assert data_sha256(data) not in pdf_text(pdf, tmp_path, first=1, last=pages - 1)


def test_allocation_report_totals_charts_and_rows(tmp_path):
    data = samples.allocation(40)
    text = pdf_text(render.render(data, generated_at=GENERATED), tmp_path)
    assert data.transfers == 40
    for expected in ("公物仓调剂调拨情况报告", "Period Allocation Report", "各月调拨笔数", "各地区调拨原值",
                     "各月平均办结天数", "地区间流向", f"{data.value:,.2f}", "2026-01-01 至 to 2026-06-30",
                     "台式计算机", "1039"):
        assert expected in text, expected


def test_settlement_and_scorecard_text(tmp_path):
    text = pdf_text(render.render(samples.settlement(), generated_at=GENERATED), tmp_path, "s")
    for expected in ("区域利益补偿结算单", "Settlement Statement", "期末余额", "轧差支付指令", "6,500.00", "记账明细",
                     "JT-2000", "-3,500.00"):
        assert expected in text, expected
    text = pdf_text(render.render(samples.scorecard(), generated_at=GENERATED), tmp_path, "c")
    for expected in ("公物仓绩效评估表", "Performance Scorecard", "闲置率", "红灯占比", "13,000.00", "25.0%",
                     "节约购置资金"):
        assert expected in text, expected


def test_cjk_font_is_embedded(tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(render.render(samples.certificate(), generated_at=GENERATED))
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    lines = [line for line in fonts.splitlines() if "WenQuanYiZenHei" in line]
    assert lines, fonts
    assert all(" yes " in line for line in lines), fonts  # emb column
    assert len(fonts.splitlines()) == 2 + len(lines), fonts  # no other (unembedded) font at all


def test_page_count_grows_with_rows(tmp_path):
    small = pdf_pages(render.render(samples.allocation(30), generated_at=GENERATED), tmp_path, "a")
    large = pdf_pages(render.render(samples.allocation(1500), generated_at=GENERATED), tmp_path, "b")
    assert large >= small + 20


def test_ten_thousand_rows(tmp_path):
    data = samples.allocation(10_000)
    started = time.perf_counter()
    pdf = render.render(data, generated_at=GENERATED)
    seconds = time.perf_counter() - started
    pages = pdf_pages(pdf, tmp_path)
    print(f"10,000 rows: {pages} pages, {len(pdf):,} bytes, {seconds:.1f} s")
    assert pages > 150
    assert seconds < 60
    last = pdf_text(pdf, tmp_path, first=pages, last=pages)
    assert "10999" in pdf_text(pdf, tmp_path, first=pages - 1, last=pages) and data_sha256(data) in last


def test_checksum_is_canonical_and_sensitive():
    a, b = samples.certificate(), samples.certificate()
    assert canonical_json(a) == canonical_json(b) and data_sha256(a) == data_sha256(b)
    changed = dataclasses.replace(a, total_value=Decimal("54000.01"))
    assert data_sha256(changed) != data_sha256(a)
    assert '"total_value":"54000.00"' in canonical_json(a)


def test_missing_font_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(render.kit, "FONT", "NoSuchFontRegistered")
    monkeypatch.setattr(render.kit, "FONT_PATH", "/nonexistent/font.ttc")
    with pytest.raises(render.FontMissing, match="fonts-wqy-zenhei"):
        render.render(samples.certificate())


def test_canonical_json_is_that_of_the_dataclass_dict():
    # checksums already recorded on jobs must stay valid: the same JSON as json.dumps of dataclasses.asdict
    import json

    from reports.data import _plain

    for kind, make in samples.SAMPLES.items():
        data = make()
        expected = json.dumps({"kind": data.kind, "data": dataclasses.asdict(data)}, default=_plain, sort_keys=True,
                              ensure_ascii=False, separators=(",", ":"))
        assert canonical_json(data) == expected, kind


def test_kit_table_refuses_per_cell_style_commands():
    from reportlab.platypus import TableStyle

    table = render.kit.table([["a", "b"], ["1", "2"], ["3", "4"]], [40, 40], numeric_cols=(1,))
    table.setStyle(TableStyle([("BACKGROUND", (0, 1), (-1, 1), render.kit.HEAD_BG)]))  # not per cell: fine
    with pytest.raises(TypeError, match="share their style"):
        table.setStyle(TableStyle([("TEXTCOLOR", (1, 2), (1, 2), render.kit.ACCENT)]))


def test_kit_table_rows_grow_with_their_lines():
    render.register_font()
    one = render.kit.table([["h"], ["x"], ["y"]], [40])
    two = render.kit.table([["h"], ["x\nx"], ["y"]], [40])
    para = render.kit.table([["h"], [render.kit.Paragraph("x<br/>x<br/>x", render.kit.styles()["cell"])], ["y"]], [40])
    heights = [t.wrap(100, 1000)[1] for t in (one, two, para)]
    assert heights[0] < heights[1] < heights[2], heights


def test_detail_cells_fit_their_columns_at_the_largest_values():
    from datetime import date

    from reportlab.pdfbase.pdfmetrics import stringWidth

    from reports.data import TransferRow
    from reports.render import allocation, kit

    render.register_font()
    widths = allocation.DETAIL_WIDTHS
    row = TransferRow(
        transfer_id=9_999_999, allocated_on=date(2026, 12, 28), completed_on=date(2026, 12, 31),
        giver_jurisdiction="黄山风景区管理委员会", receiver_jurisdiction="WWWWWWWWWWWW",
        giver="黄山风景区管理委员会机关事务管理局", receiver="Municipal Bureau of Statistics and Everything Else",
        item="MacBook Pro 16 M3 Max 联想启天 M430 台式计算机", quantity=10_000, value=Decimal("999999999.99"),
        status_zh="awaiting handover", turnaround_days=Decimal(9999))
    cells = allocation._detail_row(row, widths, 6.5)
    for cell, width in zip(cells, widths, strict=True):
        assert stringWidth(cell, kit.FONT, 6.5) + 2 * kit.PADDING <= width, cell
    assert cells[0] == "9999999" and cells[7] == "10000" and cells[8] == "999,999,999.99"
    assert cells[5].startswith("机关事务管理局") and "→Municipal" in cells[5] and cells[5].endswith("…")
    short = dataclasses.replace(row, giver="上海市统计局", giver_jurisdiction="上海市", receiver="杭州市教育局",
                                receiver_jurisdiction="杭州市", item="台式计算机")
    cells = allocation._detail_row(short, widths, 6.5)
    assert cells[3:7] == ["上海市", "杭州市", "统计局→教育局", "台式计算机"]  # whole when they fit


def test_fit_cuts_with_an_ellipsis_only_what_does_not_fit():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    kit = render.kit
    render.register_font()
    for text in ("短", "台式计算机", "上海市机关事务管理局", "W" * 20, "i" * 20, "联想 M430 台式"):
        for width in (20, 40, 60, 120):
            out = kit.fit(text, width, 7)
            assert stringWidth(out, kit.FONT, 7) <= width - 2 * kit.PADDING, (text, width)
            if stringWidth(text, kit.FONT, 7) <= width - 2 * kit.PADDING:
                assert out == text
            else:
                assert out.endswith("…") and text.startswith(out[:-1])
