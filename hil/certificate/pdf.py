"""The certificate as a PDF (reportlab), readable on a machine without any system font: Chinese text is set in
reportlab's built-in CID font STSong-Light, which every PDF reader supplies itself (Adobe-GB1); Latin text in
Bitstream Vera, which reportlab ships and the PDF embeds (it has ≤ ± µ Ω − that the standard 14 fonts lack).
Each character goes to the first of the language's fonts that has its glyph."""

from __future__ import annotations

import functools
import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hil.certificate.view import View

CJK_FONT = "STSong-Light"
LATIN_FONT, LATIN_BOLD = "Vera", "VeraBd"
MONO_FONT = "Courier"
_PAGE = landscape(A4)
_MARGIN = 12 * mm
_WIDTH = _PAGE[0] - 2 * _MARGIN
_VERDICT_COLOURS = {"fail": colors.HexColor("#fde7e7"), "marginal": colors.HexColor("#fff6d5")}


@functools.cache
def _latin_glyphs() -> frozenset[int]:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    regular = TTFont(LATIN_FONT, "Vera.ttf")
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(LATIN_BOLD, "VeraBd.ttf"))
    return frozenset(regular.face.charToGlyph)


def _fonts(lang: str) -> tuple[str, str]:
    return (CJK_FONT, CJK_FONT) if lang == "zh" else (LATIN_FONT, LATIN_BOLD)


def _in_cjk(char: str) -> bool:
    # GBK is what STSong-Light's Adobe-GB1 collection covers of Unicode
    try:
        char.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _font_of(char: str, lang: str) -> str:
    """CJK or Latin for one character: the language's own font when it has the glyph, else the other one.
    A character neither has goes to the CJK font, whose encoding keeps its code point for text extraction."""
    latin = ord(char) in _latin_glyphs()
    if lang == "zh":
        return CJK_FONT if _in_cjk(char) or not latin else LATIN_FONT
    return LATIN_FONT if latin else CJK_FONT


def markup(value: str, lang: str, bold: bool = False) -> str:
    """Paragraph markup of untrusted text: escaped, each run of characters in the font that has them."""
    own = _fonts(lang)[1 if bold else 0]
    out: list[str] = []
    run, run_font = "", own
    for char in value:
        font = _font_of(char, lang)
        font = own if font == _fonts(lang)[0] else font
        if font != run_font and run:
            out.append(escape(run) if run_font == own else f'<font name="{run_font}">{escape(run)}</font>')
            run = ""
        run, run_font = run + char, font
    if run:
        out.append(escape(run) if run_font == own else f'<font name="{run_font}">{escape(run)}</font>')
    return "".join(out)


class _Styles:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        base, bold = _fonts(lang)
        wrap = "CJK" if lang == "zh" else None
        self.title = ParagraphStyle("title", fontName=bold, fontSize=18, leading=24, wordWrap=wrap)
        self.h2 = ParagraphStyle("h2", fontName=bold, fontSize=12.5, leading=17, spaceBefore=8, wordWrap=wrap)
        self.h3 = ParagraphStyle("h3", fontName=bold, fontSize=10, leading=13, spaceBefore=5, wordWrap=wrap)
        self.body = ParagraphStyle("body", fontName=base, fontSize=9, leading=11.5, wordWrap=wrap)
        self.cell = ParagraphStyle("cell", fontName=base, fontSize=7.5, leading=9, wordWrap="CJK")
        self.head = ParagraphStyle("head", fontName=bold, fontSize=7.5, leading=9, wordWrap=wrap)
        self.mono = ParagraphStyle("mono", fontName=MONO_FONT, fontSize=8.5, leading=11)
        self.verdict = ParagraphStyle("verdict", fontName=bold, fontSize=16, leading=22, wordWrap=wrap)

    def p(self, value: str, style: ParagraphStyle | None = None) -> Paragraph:
        style = style or self.body
        return Paragraph(markup(value, self.lang, bold=style.fontName == LATIN_BOLD), style)


def _grid(data: list[list], widths: list[float], extra: list | None = None) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                *(extra or []),
            ]
        )
    )
    return table


def _key_values(s: _Styles, rows: tuple[tuple[str, str], ...]) -> Table:
    data = [[s.p(label, s.head), s.p(value, s.cell)] for label, value in rows]
    table = Table(data, colWidths=[55 * mm, 120 * mm], hAlign="LEFT", splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _story(v: View, s: _Styles) -> list:
    t = v.t
    story: list = [s.p(t["title"], s.title), s.p(f"{t['serial']}{t['colon']}{v.unit[0][1]}", s.h3)]

    story.append(s.p(t["verdict_heading"], s.h2))
    colour = "#1a7f37" if v.passed else "#c62828"
    overall = markup(f"{t['overall']}{t['colon']}", v.lang, bold=True)
    story.append(
        Paragraph(f'{overall}<font color="{colour}">{markup(v.verdict, v.lang, bold=True)}</font>', s.verdict)
    )
    if not v.passed:
        story.append(s.p(t["failed_measurements"], s.h3))
        for failure in v.failed_measurements or (t["none"],):
            story.append(s.p(f"• {failure}"))
        if v.failed_tests:
            story.append(s.p(t["other_failures"], s.h3))
            story.extend(s.p(f"• {failure}") for failure in v.failed_tests)

    story += [s.p(t["unit_heading"], s.h2), _key_values(s, v.unit)]
    story += [s.p(t["run_heading"], s.h2), _key_values(s, v.run)]
    story += [s.p(t["bench_heading"], s.h2), _key_values(s, v.bench), Spacer(1, 4)]
    if v.instruments:
        head = [t["instrument"], t["kind"], t["driver"], t["identity"], t["serial"], t["calibration_due"]]
        data = [[s.p(h, s.head) for h in head]] + [[s.p(c, s.cell) for c in row] for row in v.instruments]
        story.append(_grid(data, [w * mm for w in (30, 22, 35, 100, 40, 30)]))
    else:
        story.append(s.p(t["no_instruments"]))

    story.append(s.p(t["results_heading"], s.h2))
    head = [t[k] for k in ("measurement", "value", "unit", "low", "high", "marginal", "verdict", "clause")]
    widths = [w * mm for w in (56, 20, 12, 20, 20, 20, 16)]
    widths.append(_WIDTH - sum(widths))
    for test in v.tests:
        story.append(s.p(f"{test.scenario} · {test.outcome}", s.h3))
        about = f"{t['test']}{t['colon']}{test.node_id} · {t['attempt']} {test.attempt}"
        about += f" · {t['duration']} {test.duration}"
        story.append(s.p(about))
        if not test.rows:
            story.append(s.p(t["no_measurements"]))
            continue
        data = [[s.p(h, s.head) for h in head]]
        shading = []
        for i, r in enumerate(test.rows, start=1):
            data.append(
                [
                    s.p(c, s.cell)
                    for c in (r.name, r.value, r.unit, r.low, r.high, r.marginal, r.verdict, r.clause)
                ]
            )
            if r.verdict_code in _VERDICT_COLOURS:
                shading.append(("BACKGROUND", (0, i), (-1, i), _VERDICT_COLOURS[r.verdict_code]))
        story.append(_grid(data, widths, shading))
    story.append(Spacer(1, 4))
    story.append(s.p(t["sources"]))

    story += [
        s.p(t["integrity_heading"], s.h2),
        s.p(t["record_sha256"], s.h3),
        Paragraph(v.record_sha256, s.mono),
        s.p(t["integrity_note"]),
    ]
    return story


def render_pdf(view: View) -> bytes:
    _latin_glyphs()
    styles = _Styles(view.lang)
    footer_style = ParagraphStyle("footer", parent=styles.cell, fontSize=7)
    footer = (
        markup(
            f"{view.t['title']} · {view.unit[0][1]} · {view.t['record_sha256']}{view.t['colon']}", view.lang
        )
        + f'<font name="{MONO_FONT}">{view.record_sha256}</font>'
    )

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        line = Paragraph(f"{footer} · {doc.page}", footer_style)
        line.wrapOn(canvas, _WIDTH, 10 * mm)
        line.drawOn(canvas, _MARGIN, 6 * mm)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=_PAGE,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=14 * mm,
        title=f"{view.t['title']} {view.unit[0][1]}",
        invariant=1,
    )
    doc.build(_story(view, styles), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
