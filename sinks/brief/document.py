"""The brief as a document of blocks, in Vietnamese or English."""

from __future__ import annotations

from sinks.brief import writing as say
from sinks.brief import writing_units as units
from sinks.brief.blocks import Block, Document, Heading, Image
from sinks.brief.charts import charts
from sinks.brief.model import Brief
from sinks.brief.text import Lang, label


def build(brief: Brief, lang: Lang) -> Document:
    """Lay the brief out as blocks in ``lang``, charts included."""
    blocks: list[Block] = []
    for title_key, section in (
        ("s_cases", say.cases),
        ("s_where", say.where),
        ("s_signals", say.signals),
        ("s_testing", say.testing),
        ("s_vaccination", say.vaccination),
        ("s_checkpoints", say.checkpoints),
        ("s_compliance", units.compliance),
        ("s_late", units.late_additions),
    ):
        blocks.append(Heading(label(title_key, lang)))
        blocks += section(brief, lang)
    blocks.append(Heading(label("s_charts", lang)))
    blocks += [Image(chart.caption, chart) for chart in charts(brief.series, lang)]
    head = say.header(brief, lang)
    return Document(
        lang, f"{head.title} — {head.area_day}", head, tuple(blocks), label("footer", lang)
    )
