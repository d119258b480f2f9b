"""The brief's charts as PNG: cases with the 7-day average, positivity, the vaccination ramp.

matplotlib's object API on the Agg canvas (no pyplot: no global figure state shared by
two threads making briefs). The same series give the same bytes: no timestamp or
version goes into the PNG's metadata, and the font is the bundled DejaVu Sans.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sinks.brief.model import Series
from sinks.brief.text import Lang, label, number

WIDTH, HEIGHT, DPI = 6.4, 2.3, 120
_BLUE, _RED, _GREY, _GREEN = "#3b6ea5", "#c0392b", "#444444", "#2e8b57"


@dataclass(frozen=True)
class Chart:
    """One chart: its key, its caption and its PNG."""

    key: str
    caption: str
    png: bytes


@lru_cache(maxsize=8)
def charts(series: Series, lang: Lang) -> tuple[Chart, ...]:
    """The three charts of the brief, captioned in ``lang``.

    Cached: a version is rendered in three formats from the same series, and drawing
    the charts is most of what a small brief's rendering costs.
    """
    return (
        Chart("cases", label("chart_cases", lang), _cases(series, lang)),
        Chart("positivity", label("chart_positivity", lang), _positivity(series, lang)),
        Chart("vaccine", label("chart_vaccine", lang), _vaccine(series, lang)),
    )


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=7)
    return fig, ax


def _ticks(ax: Axes, series: Series) -> None:
    labels = [f"{d.day}/{d.month}" for d in series.days]
    ax.set_xticks(range(len(labels)), labels)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.tight_layout(pad=0.4)
    # No "Software" entry: a matplotlib upgrade must not change the bytes of an old brief.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _zero(values: Sequence[float | None]) -> list[float]:
    return [0.0 if v is None else float(v) for v in values]


def _cases(series: Series, lang: Lang) -> bytes:
    fig, ax = _figure()
    x = range(len(series.days))
    ax.bar(x, _zero(series.cases_new), color=_BLUE, label=label("legend_cases", lang))
    ax.bar(
        x,
        _zero(series.cases_community),
        color=_RED,
        width=0.5,
        label=label("legend_community", lang),
    )
    avg = [float("nan") if v is None else v for v in series.cases_avg_7d]
    ax.plot(x, avg, color=_GREY, linewidth=1.6, label=label("legend_avg", lang))
    _ticks(ax, series)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return _png(fig)


def _positivity(series: Series, lang: Lang) -> bytes:
    fig, ax = _figure()
    x = range(len(series.days))
    values = [float("nan") if v is None else v for v in series.positivity]
    ax.plot(x, values, color=_RED, marker="o", markersize=3, linewidth=1.4)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(lambda v, _: number(v, lang, 1))
    _ticks(ax, series)
    return _png(fig)


def _vaccine(series: Series, lang: Lang) -> bytes:
    fig, ax = _figure()
    x = range(len(series.days))
    ax.plot(
        x, series.dose1_cumulative, color=_BLUE, linewidth=1.6, label=label("legend_dose1", lang)
    )
    ax.plot(
        x, series.dose2_cumulative, color=_GREEN, linewidth=1.6, label=label("legend_dose2", lang)
    )
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(lambda v, _: number(v, lang))
    _ticks(ax, series)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return _png(fig)
