"""The brief's head and its sections of figures and places, in words and tables."""

from __future__ import annotations

from collections.abc import Sequence

from contract.levels import LEVEL_NAMES
from sinks.brief.blocks import Block, Bullets, Header, Para, Table, table
from sinks.brief.model import Brief, Completeness, Figure, LevelLine
from sinks.brief.text import (
    MAX_ROWS,
    Lang,
    Rows,
    capped,
    change,
    day_text,
    label,
    names_list,
    nfc,
    number,
    percent,
    pick,
    time_text,
)


def header(brief: Brief, lang: Lang) -> Header:
    area = pick(brief.area_name, brief.area_name_en, lang)
    lines = [
        label("cutoff", lang, time=time_text(brief.cutoff), day=day_text(brief.cutoff.date())),
        label(
            "generated",
            lang,
            time=time_text(brief.generated_at),
            day=day_text(brief.generated_at.date()),
        )
        + " · "
        + label("version", lang, n=brief.version),
    ]
    for c in brief.compliance:
        lines.append(completeness(c.completeness, pick(c.name_vi, c.name_en, lang), lang))
    return Header(
        committee=nfc(f"{area.upper()} · {label('committee', lang).upper()}"),
        title=label("title", lang),
        area_day=nfc(f"{area} — {label('day', lang)} {day_text(brief.day)}"),
        lines=tuple(lines),
    )


def completeness(done: Completeness, name: str, lang: Lang) -> str:
    """ "Báo cáo ngày cấp huyện: 52/58 đơn vị đã báo cáo; 3 báo cáo trễ; 3 chưa báo cáo"."""
    n = {
        k: number(v, lang)
        for k, v in (
            ("received", done.received),
            ("late", done.late),
            ("expected", done.expected),
            ("missing", done.missing),
        )
    }
    return label("completeness", lang, name=name, **n)


def _figures(figures: Sequence[Figure], lang: Lang) -> Table:
    rows = []
    for f in figures:
        places = 1 if f.percent else 0
        today = percent(f.today, lang, 2) if f.percent else number(f.today, lang)
        if f.today is None:
            today = label("not_reported", lang)
        rows.append(
            (
                pick(f.name_vi, f.name_en, lang),
                today,
                change(f.change, lang, places),
                number(f.avg_7d, lang, places + 1 if f.percent else 1),
                f"{number(f.reported, lang)}/{number(f.expected, lang)}",
            )
        )
    return table(
        [label(k, lang) for k in ("col_figure", "col_today", "col_change", "col_avg", "col_units")],
        rows,
        (0.40, 0.15, 0.16, 0.13, 0.16),
        ["l", "r", "r", "r", "r"],
    )


def _value(brief: Brief, code: str, lang: Lang) -> str:
    found = next((f for f in brief.headline if f.code == code), None)
    return number(found.today if found else None, lang)


def cases(brief: Brief, lang: Lang) -> list[Block]:
    """The day's cases by source, deaths, contacts and isolation, against yesterday and the week."""
    summary = label(
        "summary_cases",
        lang,
        **{
            k: _value(brief, code, lang)
            for k, code in (
                ("new", "cases_new"),
                ("community", "cases_community"),
                ("quarantined", "cases_quarantined"),
                ("unknown", "cases_unknown_source"),
                ("deaths", "deaths"),
            )
        },
    )
    return [Para(summary, "strong"), _figures(brief.headline, lang)]


def _note(text: str, lang: Lang) -> str:
    """A bilingual note ("… / …") in the reader's language; any other note as it is."""
    parts = text.split(" / ")
    return pick(parts[0], parts[1], lang) if len(parts) == 2 else nfc(text)


def where(brief: Brief, lang: Lang) -> list[Block]:
    """Units with community or unknown-source cases, the ones new today marked."""
    if not brief.places:
        return [Para(label("no_places", lang))]
    fresh: dict[str, bool] = {}  # area -> a unit in it has community cases for the first time
    for p in brief.places:
        if p.community:  # nationally by province; in a province, by district
            area = p.province if brief.province_id is None else p.district or p.name
            fresh[area] = fresh.get(area, False) or p.new_today
    new = f" ({label('new_mark', lang)})"
    areas = [area + (new if is_new else "") for area, is_new in fresh.items()]
    rows: Rows = [
        (
            p.name,
            p.district or p.province,
            number(p.community, lang),
            number(p.unknown_source, lang),
            label("new_mark", lang) if p.new_today else "",
            _note(p.note, lang),
        )
        for p in brief.places[:MAX_ROWS]
    ]
    head = ("col_unit", "col_area", "col_community", "col_unknown", "col_new", "col_note")
    out: list[Block] = []
    if areas:
        out.append(Para(label("districts_with", lang, names=names_list(areas, lang)), "strong"))
    out.append(
        table(
            [label(k, lang) for k in head],
            capped(rows, len(brief.places), lang),
            (0.19, 0.17, 0.14, 0.13, 0.07, 0.30),
            ["l", "l", "r", "r", "l", "l"],
        )
    )
    return out


def _level(level: int | None, lang: Lang) -> str:
    return "–" if level is None else ("Cấp " if lang == "vi" else "Level ") + str(level)


def _level_name(level: int | None, lang: Lang) -> str:
    return "–" if level is None else pick(*LEVEL_NAMES[level], lang)


def _change_line(line: LevelLine, lang: Lang) -> str:
    return nfc(
        f"{line.unit_name}: {_level_name(line.previous, lang)} → "
        f"{_level_name(line.today_daily, lang)}. {pick(line.why_vi, line.why_en, lang)}"
    )


def signals(brief: Brief, lang: Lang) -> list[Block]:
    """Active signals with their explanations, level changes, and the levels by unit."""
    out: list[Block] = []
    if brief.signals:
        out.append(Para(label("signals_intro", lang), "strong"))
        out.append(
            Bullets(
                tuple(
                    nfc(f"{day_text(s.day)} · {pick(s.message_vi, s.message_en, lang)}")
                    for s in brief.signals
                )
            )
        )
    else:
        out.append(Para(label("no_signals", lang)))
    if brief.level_changes:
        out.append(Para(label("level_changes", lang), "strong"))
        out.append(Bullets(tuple(_change_line(line, lang) for line in brief.level_changes)))
    else:
        out.append(Para(label("no_level_changes", lang)))
    if brief.levels:
        rows = []
        for line in brief.levels:
            why = pick(line.why_vi, line.why_en, lang)
            if line.unconfirmed:
                why += f" ({label('unconfirmed', lang)}: {', '.join(line.unconfirmed)})"
            rows.append(
                (line.unit_name, _level(line.level, lang), _level(line.previous, lang), why)
            )
        changed = [i for i, line in enumerate(brief.levels) if line.changed]
        out.append(
            table(
                [label(k, lang) for k in ("col_unit", "col_level", "col_previous", "col_why")],
                rows,
                (0.22, 0.1, 0.11, 0.57),
                strong=changed,
            )
        )
    return out


def testing(brief: Brief, lang: Lang) -> list[Block]:
    return [_figures(brief.testing, lang)]


def vaccination(brief: Brief, lang: Lang) -> list[Block]:
    """Doses today, cumulative coverage by age band, and the adults' target."""
    out: list[Block] = [
        Para(label("doses_today", lang), "strong"),
        _figures(brief.doses_today, lang),
    ]
    adults = brief.adults
    share = adults.percent(adults.dose2) if adults else None
    verdict = (
        label("unknown_population", lang)
        if share is None
        else label("met" if share >= brief.target_pct else "not_met", lang)
    )
    out.append(
        Para(
            label(
                "target",
                lang,
                pct=percent(share, lang),
                verdict=verdict,
                target=number(brief.target_pct, lang),
            ),
            "strong",
        )
    )
    rows = [
        (
            pick(c.name_vi, c.name_en, lang),
            number(c.population, lang),
            number(c.dose1, lang),
            percent(c.percent(c.dose1), lang),
            number(c.dose2, lang),
            percent(c.percent(c.dose2), lang),
        )
        for c in brief.coverage
    ]
    bold = [i for i, c in enumerate(brief.coverage) if c.band == "adults"]
    head = ("col_band", "col_population", "col_dose1", "col_pct", "col_dose2", "col_pct")
    if brief.population_estimated:
        out.append(Para(label("estimated", lang), "note"))
    out.append(Para(label("coverage", lang), "strong"))
    out.append(
        table(
            [label(k, lang) for k in head],
            rows,
            (0.22, 0.16, 0.17, 0.11, 0.17, 0.17),
            ["l", "r", "r", "r", "r", "r"],
            bold,
        )
    )
    return out


def checkpoints(brief: Brief, lang: Lang) -> list[Block]:
    return [_figures(brief.checkpoints, lang)]
