"""Render document data (reports.data) to PDF bytes with reportlab. Pure: data in, bytes out — no ORM.

Every document: A4, the embedded CJK TrueType font (WenQuanYi Zen Hei), Chinese titles with English
subtitles, the region's name in the header, "第 x / y 页" and the generation time (Asia/Shanghai) in the
footer, and the SHA-256 of the document's data on the last page. The kit draws what they share
(`kit.py`); each document has its own module."""
from .allocation import render_allocation_report
from .certificate import render_transfer_certificate
from .kit import FONT, ROWS_PER_TABLE, FontMissing, register_font
from .scorecard import render_scorecard
from .settlement import render_settlement_statement

__all__ = ["FONT", "ROWS_PER_TABLE", "FontMissing", "register_font", "render", "render_allocation_report",
           "render_scorecard", "render_settlement_statement", "render_transfer_certificate"]

RENDERERS = {
    "transfer_certificate": render_transfer_certificate,
    "allocation_report": render_allocation_report,
    "settlement_statement": render_settlement_statement,
    "scorecard": render_scorecard,
}


def render(data, generated_at=None) -> bytes:
    return RENDERERS[data.kind](data, generated_at=generated_at)
