"""The brief as an editable Word document (python-docx): real headings, tables and pictures.

Offices edit and sign the brief in Word, so it is built from Word's own parts, not a
PDF turned back into text. Its font is Times New Roman, the font of Vietnamese official
documents (Nghị định 30/2020/NĐ-CP), which every office's Word has with the Vietnamese
letters; a DOCX names its font, it does not carry it. The zip is rewritten with the
brief's ``generated_at`` as every entry's time, so the same brief gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from docx import Document as new_document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell

from sinks.brief.blocks import Bullets, Document, Heading, Image, Para, Table

FONT = "Times New Roman"
RED = RGBColor(0x7A, 0x1F, 0x1F)
WIDTH_CM = 17.0


def _font(doc: DocxDocument) -> None:
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(11)
    # East Asian text (and Word's own fallback) reads w:eastAsia: name the font there too.
    fonts = style.element.rPr.rFonts
    fonts.set(qn("w:eastAsia"), FONT)
    for name in ("Heading 1", "Heading 2", "Title"):
        heading = doc.styles[name]
        heading.font.name = FONT
        heading.font.color.rgb = RED


def _centered(doc: DocxDocument, text: str, size: float, bold: bool = False) -> None:
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run(text)
    run.bold, run.font.size = bold, Pt(size)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _table(doc: DocxDocument, t: Table) -> None:
    # Rows are added one by one and their cells read once: python-docx's table.cell(r, c)
    # walks the whole table on every call (a national list took seconds that way).
    table = doc.add_table(rows=0, cols=len(t.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(t.widths)
    widths = [Cm(WIDTH_CM * w / total) for w in t.widths]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for r, row in enumerate((t.header, *t.rows)):
        cells = table.add_row().cells
        for c, (cell, text) in enumerate(zip(cells, row, strict=True)):
            if r == 0:
                cell.width = widths[c]  # Word sizes columns by the first row's cells
                _shade(cell, "EFEFEF")
            para = cell.paragraphs[0]
            if t.align[c] == "r":
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = para.add_run(text)
            run.font.size = Pt(9)
            run.bold = r == 0 or (r - 1) in t.strong
    doc.add_paragraph()


def _build(doc: Document) -> DocxDocument:
    out = new_document()
    _font(out)
    section = out.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(1.8)
    head = doc.header
    _centered(out, head.committee, 10, bold=True)
    _centered(out, head.title, 15, bold=True)
    _centered(out, head.area_day, 12)
    for line in head.lines:
        _centered(out, line, 9)
    for block in doc.blocks:
        if isinstance(block, Heading):
            out.add_heading(block.text, level=2)
        elif isinstance(block, Para):
            run = out.add_paragraph().add_run(block.text)
            run.bold, run.italic = block.style == "strong", block.style == "note"
        elif isinstance(block, Bullets):
            for item in block.items:
                out.add_paragraph(item, style="List Bullet")
        elif isinstance(block, Table):
            _table(out, block)
        elif isinstance(block, Image):
            out.add_paragraph(block.caption).runs[0].italic = True
            out.add_picture(io.BytesIO(block.chart.png), width=Cm(16))
    footer = section.footer.paragraphs[0]
    footer.text = doc.footer
    return out


def _stable_zip(data: bytes, at: datetime) -> bytes:
    """The same entries, in the same order, each stamped ``at`` (zip has no time zone)."""
    stamp = at.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def render_docx(doc: Document, generated_at: datetime) -> bytes:
    """The DOCX's bytes; the same for the same document and ``generated_at``."""
    built = _build(doc)
    props = built.core_properties
    props.title, props.author, props.last_modified_by = doc.title, "baocao", "baocao"
    props.language, props.revision = doc.lang, 1
    # Word reads these as UTC; naive instants, as python-docx writes them.
    utc = generated_at.astimezone(UTC).replace(tzinfo=None)
    props.created = props.modified = props.last_printed = utc
    out = io.BytesIO()
    built.save(out)
    return _stable_zip(out.getvalue(), generated_at)
