"""The blocks a brief is laid out in: headings, sentences, lists, tables and charts.

Every renderer (PDF, DOCX, HTML) draws these and nothing else, so the three formats hold
the same headings, sentences and table cells; a renderer decides only how they look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sinks.brief.charts import Chart
from sinks.brief.text import Lang, nfc

Align = Literal["l", "r"]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    style: Literal["normal", "note", "strong"] = "normal"


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table: header cells, rows of cells, relative column widths and alignment."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    align: tuple[Align, ...]
    #: Rows drawn in bold (a total, a changed level).
    strong: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Image:
    caption: str
    chart: Chart


Block = Heading | Para | Bullets | Table | Image


@dataclass(frozen=True)
class Header:
    """The document's head: title, area and day, and the instants it speaks for."""

    committee: str
    title: str
    area_day: str
    lines: tuple[str, ...]  # cut-off, generated at, version; completeness per dataset


@dataclass(frozen=True)
class Document:
    lang: Lang
    title: str  # for the PDF's and DOCX's metadata and the HTML's <title>
    header: Header
    blocks: tuple[Block, ...]
    footer: str


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    align: Sequence[Align] | None = None,
    strong: Sequence[int] = (),
) -> Table:
    """A table with every cell in NFC."""
    return Table(
        tuple(nfc(h) for h in header),
        tuple(tuple(nfc(c) for c in row) for row in rows),
        tuple(widths),
        tuple(align or ["l"] * len(header)),
        frozenset(strong),
    )
