"""The brief as one self-contained HTML page: styles inline, charts as data: URIs, printable.

Nothing is fetched: no stylesheet, script, font or image from elsewhere, so the page
reads the same offline, from an e-mail or from the archive years later. ``@media print``
drops the screen's margins and keeps tables and charts from splitting across pages.
"""

from __future__ import annotations

import base64
from html import escape

from sinks.brief.blocks import Block, Bullets, Document, Heading, Para, Table

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 14px;
  line-height: 1.45; color: #1d1d1d; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
header { text-align: center; border-bottom: 2px solid #7a1f1f; padding-bottom: .6rem; }
.committee { font-size: .8rem; font-weight: bold; letter-spacing: .02em; }
h1 { font-size: 1.35rem; margin: .4rem 0 .2rem; color: #7a1f1f; }
.area-day { font-size: 1.1rem; margin: 0 0 .4rem; }
.meta { font-size: .8rem; color: #444; margin: .1rem 0; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; color: #7a1f1f;
  border-bottom: 1px solid #ddd; padding-bottom: .15rem; }
p.strong { font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; font-size: .85rem; }
th, td { border: 1px solid #c8c8c8; padding: .2rem .4rem; vertical-align: top; }
th { background: #efefef; text-align: left; }
td.r, th.r { text-align: right; white-space: nowrap; }
tr.strong td { font-weight: bold; }
figure { margin: .6rem 0 1rem; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: .8rem; color: #444; }
footer { margin-top: 2rem; font-size: .75rem; color: #666; border-top: 1px solid #ddd; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, figure, tr { break-inside: avoid; }
  @page { size: A4; margin: 16mm 15mm; }
}
"""


def _table(t: Table) -> str:
    cls = ["r" if a == "r" else "" for a in t.align]
    head = "".join(
        f'<th class="{c}">{escape(h)}</th>' if c else f"<th>{escape(h)}</th>"
        for h, c in zip(t.header, cls, strict=True)
    )
    rows = []
    for i, row in enumerate(t.rows):
        cells = "".join(
            f'<td class="{c}">{escape(v)}</td>' if c else f"<td>{escape(v)}</td>"
            for v, c in zip(row, cls, strict=True)
        )
        rows.append(f'<tr class="strong">{cells}</tr>' if i in t.strong else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h2>{escape(block.text)}</h2>"
    if isinstance(block, Para):
        cls = f' class="{block.style}"' if block.style != "normal" else ""
        return f"<p{cls}>{escape(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    data = base64.b64encode(block.chart.png).decode("ascii")
    return (
        f'<figure data-chart="{block.chart.key}"><img alt="{escape(block.caption)}"'
        f' src="data:image/png;base64,{data}"><figcaption>{escape(block.caption)}'
        "</figcaption></figure>"
    )


def render_html(doc: Document) -> bytes:
    """The page, UTF-8."""
    head = doc.header
    meta = "".join(f'<p class="meta">{escape(line)}</p>' for line in head.lines)
    body = "\n".join(_block(b) for b in doc.blocks)
    page = f"""<!DOCTYPE html>
<html lang="{doc.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(doc.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<div class="committee">{escape(head.committee)}</div>
<h1>{escape(head.title)}</h1>
<p class="area-day">{escape(head.area_day)}</p>
{meta}
</header>
<main>
{body}
</main>
<footer>{escape(doc.footer)}</footer>
</body>
</html>
"""
    return page.encode("utf-8")
