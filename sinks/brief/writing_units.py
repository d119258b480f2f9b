"""The brief's lists of units in words and tables: who reported, and what came in late."""

from __future__ import annotations

from sinks.brief.blocks import Block, Para, table
from sinks.brief.figures import HEADLINE
from sinks.brief.model import Brief, Compliance
from sinks.brief.text import (
    MAX_ROWS,
    Lang,
    Rows,
    capped,
    label,
    names_list,
    number,
    pick,
    time_text,
)
from sinks.brief.writing import completeness

#: The figures a late addition's "changes" cell names; others are counted.
CHANGE_CODES = (
    *HEADLINE,
    "tests_pcr",
    "tests_pcr_positive",
    "people_screened",
    "vehicles_screened",
    "sent_to_quarantine",
    "violations",
)


def _compliance(c: Compliance, brief: Brief, lang: Lang) -> list[Block]:
    done = c.completeness
    out: list[Block] = [
        Para(
            completeness(done, pick(c.name_vi, c.name_en, lang), lang),
            "strong",
        )
    ]
    on_time = [u.name for u in c.named("on_time")]
    out.append(Para(label("on_time_names", lang, n=len(on_time), names=names_list(on_time, lang))))
    late, missing = c.named("late"), c.named("missing")
    out.append(
        Para(label("late_names", lang, n=len(late)) + ("" if late else " " + label("none", lang)))
    )
    if late:
        rows: Rows = [
            (
                u.name,
                u.parent,
                time_text(u.first_submitted_at.astimezone(brief.cutoff.tzinfo))
                if u.first_submitted_at
                else "–",
            )
            for u in late[:MAX_ROWS]
        ]
        out.append(
            table(
                [label(k, lang) for k in ("col_unit", "col_area", "col_time")],
                capped(rows, len(late), lang),
                (0.5, 0.35, 0.15),
            )
        )
    out.append(
        Para(
            label("missing_names", lang, n=len(missing))
            + ("" if missing else " " + label("none", lang))
        )
    )
    if missing:
        rows2: Rows = [(u.name, u.parent) for u in missing[:MAX_ROWS]]
        out.append(
            table(
                [label(k, lang) for k in ("col_unit", "col_area")],
                capped(rows2, len(missing), lang),
                (0.6, 0.4),
            )
        )
    if any(a.expected > 1 for a in c.areas):  # one unit per area repeats the lists above
        rows3: Rows = [
            (
                a.name,
                number(a.expected, lang),
                number(a.on_time, lang),
                number(a.late, lang),
                number(a.missing, lang),
            )
            for a in c.areas
        ]
        head = ("col_area", "col_expected", "col_on_time", "col_late", "col_missing")
        out.append(Para(label("by_area", lang), "strong"))
        out.append(
            table(
                [label(k, lang) for k in head],
                rows3,
                (0.36, 0.16, 0.16, 0.16, 0.16),
                ["l", "r", "r", "r", "r"],
            )
        )
    return out


def compliance(brief: Brief, lang: Lang) -> list[Block]:
    """Who reported on time, late and not at all, by name, per dataset."""
    return [block for c in brief.compliance for block in _compliance(c, brief, lang)]


def _changed(
    vi: str, en: str, before: int | None, after: int | None, correction: bool, lang: Lang
) -> str:
    name = pick(vi, en, lang)
    if correction:
        return f"{name}: {number(before, lang)} → {number(after, lang)}"
    return f"{name}: {number(after, lang)}"


def late_additions(brief: Brief, lang: Lang) -> list[Block]:
    """Reports that came in after the cut-off, and the headline figures with them."""
    if not brief.late_additions:
        return [Para(label("no_late", lang))]
    rows: Rows = []
    for a in brief.late_additions:
        shown = [c for c in a.changes if c.code in CHANGE_CODES]
        if not a.correction:  # a first report: its figures, zeros left out
            shown = [c for c in shown if c.after]
        text = "; ".join(
            _changed(c.name_vi, c.name_en, c.before, c.after, a.correction, lang) for c in shown
        )
        hidden = len([c for c in a.changes if c.code not in CHANGE_CODES])
        if hidden:
            text += f" (+{hidden} {'chỉ số khác' if lang == 'vi' else 'more figures'})"
        kind = label("correction" if a.correction else "late_report", lang)
        if a.reason:
            kind += f": {a.reason}"
        name = a.name + (f" ({a.parent})" if a.parent else "")
        rows.append((name, time_text(a.submitted_at), kind, text))
        if len(rows) == MAX_ROWS:
            break
    head = ("col_unit", "col_time", "col_kind", "col_changes")
    after = brief.after_review
    return [
        table(
            [label(k, lang) for k in head],
            capped(rows, len(brief.late_additions), lang),
            (0.22, 0.1, 0.18, 0.5),
        ),
        Para(
            label(
                "after_review",
                lang,
                new=number(after.get("cases_new"), lang),
                community=number(after.get("cases_community"), lang),
            ),
            "strong",
        ),
    ]
