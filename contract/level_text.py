"""Numbers and phrases for epidemic level explanations, in Vietnamese and English."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

Lang = Literal["vi", "en"]
_VI_DIGITS = str.maketrans(",.", ".,")


def number(value: float, lang: Lang, edges: Sequence[float] = ()) -> str:
    """Format ``value`` the reader's way: "28,4" and "100.000" in Vietnamese.

    One decimal is enough unless rounding would carry the value across a threshold
    (19.96 shown as "20" next to "level 1 below 20"): then more, never the wrong side.
    """
    shown, places = value, 3
    for places in (1, 2, 3):
        shown = round(value, places)
        if all((shown >= e) == (value >= e) for e in edges):
            break
    else:
        shown = math.floor(value * 1000) / 1000
    whole = shown == int(shown)
    text = f"{int(shown):,}" if whole else f"{shown:,.{places}f}".rstrip("0")
    return text.translate(_VI_DIGITS) if lang == "vi" else text


def band_range(edges: Sequence[float], band: int, lang: Lang, count: bool = False) -> str:
    """The values of ``band`` (1-based) as words: "dưới 20", "từ 20 đến dưới 50", "từ 150"."""
    lower = edges[band - 2] if band >= 2 else None
    upper = edges[band - 1] if band <= len(edges) else None
    if upper is not None and lower is None:
        return below(upper, lang, count)
    if lower is not None and upper is None:
        return at_least(lower, lang, count)
    assert lower is not None and upper is not None
    if lang == "vi":
        return f"từ {number(lower, lang)} đến dưới {number(upper, lang)}"
    return f"{number(lower, lang)} to under {number(upper, lang)}"


def below(edge: float, lang: Lang, count: bool = False) -> str:
    """Under ``edge``; a count under 1 reads as "0", under 5 as "at most 4"."""
    if count and edge == int(edge):
        if edge <= 1:
            return "0"
        return f"tối đa {number(edge - 1, lang)}" if lang == "vi" else f"at most {edge - 1:,.0f}"
    return f"dưới {number(edge, lang)}" if lang == "vi" else f"below {number(edge, lang)}"


def at_least(edge: float, lang: Lang, count: bool = False) -> str:
    """``edge`` or more ("1 or more cases", "at least 70% of people")."""
    if lang == "vi":
        return f"từ {number(edge, lang)}"
    return f"{number(edge, lang)} or more" if count else f"at least {number(edge, lang)}"


def level_word(level: int, lang: Lang) -> str:
    """The level in words: "cấp 2" or "level 2"."""
    return f"cấp {level}" if lang == "vi" else f"level {level}"


def join(parts: Sequence[str]) -> str:
    """Clauses separated the same way in both languages."""
    return "; ".join(p for p in parts if p)
