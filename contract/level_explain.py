"""Say why a unit has its epidemic level and what would change it, in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from contract.level_rules import Criterion, Hold, Missing
from contract.level_text import at_least, band_range, below, join, level_word, number

if TYPE_CHECKING:
    from contract.levels import LevelInputs, Profile

Measured = Mapping[str, tuple[float | None, Missing | None]]
Texts = tuple[str, str, str, str]  # why_vi, why_en, next_vi, next_en
Change = tuple[Criterion, int, int]  # criterion, its band now, the band it moves to


def explain(
    profile: Profile,
    inputs: LevelInputs,
    measured: Measured,
    bands: Mapping[str, int | None],
    level: int,
    held: Hold | None,
) -> Texts:
    """Why and what next for a decided ``level`` (before any hold)."""
    why_vi, why_en = _criteria(profile, inputs, measured, bands)
    for hold in profile.holds:
        vi, en = _hold(hold, inputs.flags.get(hold.flag), held is hold, inputs.previous_level)
        why_vi.append(vi)
        why_en.append(en)
    population = inputs.population
    if population is not None and population.estimated and _uses_population(profile):
        why_vi.append("số dân là số ước tính")
        why_en.append("the population is an estimate")
    phrases, levels = _moves(profile, bands, level)
    final = level
    if held is not None and inputs.previous_level is not None:
        final = inputs.previous_level
        lower = [
            (
                f"{held.label_vi} đạt → {level_word(level, 'vi')}",
                f"{held.label_en} met → {level_word(level, 'en')}",
            )
        ]
    else:
        lower = [p for p, lv in zip(phrases, levels, strict=True) if lv < level]
    higher = [p for p, lv in zip(phrases, levels, strict=True) if lv > final]
    next_vi = join([vi for vi, _ in (*lower, *higher)])
    next_en = join([en for _, en in (*lower, *higher)])
    if not next_vi:
        next_vi, next_en = "không tiêu chí nào đổi được cấp độ", "no criterion can change the level"
    return join(why_vi), join(why_en), next_vi, next_en


def _uses_population(profile: Profile) -> bool:
    return any(c.per == "population" for c in profile.rule_criteria)


def undecided(profile: Profile, measured: Measured, bands: Mapping[str, int | None]) -> Texts:
    """Why the level cannot be assessed, and what is needed."""
    gaps = [
        (c, missing)
        for c in profile.rule_criteria
        if bands[c.name] is None and (missing := measured[c.name][1]) is not None
    ]
    needs = list(dict.fromkeys((m.need_vi, m.need_en) for _, m in gaps if m.need_vi))
    return (
        "Không đánh giá được: " + join([f"{c.label_vi}: {m.why_vi}" for c, m in gaps]),
        "Cannot assess: " + join([f"{c.label_en}: {m.why_en}" for c, m in gaps]),
        "Để đánh giá cần: " + ", ".join(vi for vi, _ in needs),
        "To assess, needs: " + ", ".join(en for _, en in needs),
    )


def _criteria(
    profile: Profile, inputs: LevelInputs, measured: Measured, bands: Mapping[str, int | None]
) -> tuple[list[str], list[str]]:
    out_vi: list[str] = []
    out_en: list[str] = []
    for c in profile.criteria:
        value, missing = measured[c.name]
        if value is not None:
            vi = c.text_vi.format(value=number(value, "vi", c.edges))
            en = c.text_en.format(value=number(value, "en", c.edges))
            reported = inputs.days_reported.get(c.days) if c.days else None
            if c.days and reported is not None and reported < c.days:
                vi += f" (báo cáo {reported}/{c.days} ngày)"
                en += f" (reports on {reported} of {c.days} days)"
        elif missing is not None and bands.get(c.name) is not None and c.assume_band:
            count = c.per == "count"
            vi = c.text_vi.format(value=band_range(c.edges, c.assume_band, "vi", count))
            en = c.text_en.format(value=band_range(c.edges, c.assume_band, "en", count))
            vi, en = f"{missing.why_vi}, tạm coi là {vi}", f"{missing.why_en}, taken as {en}"
        else:
            assert missing is not None
            unused_vi, unused_en = ("chưa xét", "not assessed") if not c.available else ("", "")
            vi = f"{c.label_vi}: " + ", ".join(filter(None, [missing.why_vi, unused_vi]))
            en = f"{c.label_en}: " + ", ".join(filter(None, [missing.why_en, unused_en]))
        out_vi.append(vi)
        out_en.append(en)
    return out_vi, out_en


def _hold(hold: Hold, met: bool | None, applied: bool, previous: int | None) -> tuple[str, str]:
    if applied and previous is not None:
        return (
            f"giữ {level_word(previous, 'vi')}: {hold.label_vi} chưa đạt nên chưa được hạ cấp",
            f"stays at {level_word(previous, 'en')}: {hold.label_en} not met, so it may not drop",
        )
    if met is None:
        return (
            f"{hold.label_vi}: không có trong dữ liệu, chưa xét "
            "(nếu không đạt thì không được hạ cấp)",
            f"{hold.label_en}: not in the data, not assessed (if not met, the level may not drop)",
        )
    return (
        (f"{hold.label_vi}: đạt", f"{hold.label_en}: met")
        if met
        else (f"{hold.label_vi}: chưa đạt", f"{hold.label_en}: not met")
    )


def _moves(
    profile: Profile, bands: Mapping[str, int | None], level: int
) -> tuple[list[tuple[str, str]], list[int]]:
    """The nearest change of each criterion that lowers the level, and that raises it."""
    phrases: list[tuple[str, str]] = []
    levels: list[int] = []
    for c in profile.rule_criteria:
        now = bands[c.name]
        if now is None:
            continue
        seen: set[bool] = set()  # one lowering and one raising change per criterion
        for target in sorted(range(1, c.bands + 1), key=lambda t: (abs(t - now), t)):
            moved, _ = profile.decide({**bands, c.name: target})
            if target == now or moved is None or moved == level or (moved < level) in seen:
                continue
            seen.add(moved < level)
            phrases.append(_phrase([(c, now, target)], moved))
            levels.append(moved)
    if level > 1 and not any(lv < level for lv in levels):
        pair = _pair(profile, bands, level)
        if pair is not None:
            phrases.insert(0, _phrase(*pair))
            levels.insert(0, pair[1])
    return phrases, levels


def _pair(
    profile: Profile, bands: Mapping[str, int | None], level: int
) -> tuple[list[Change], int] | None:
    """The smallest change of two criteria together that lowers the level (e.g. coverage)."""
    known = [c for c in profile.rule_criteria if bands[c.name] is not None]
    best: tuple[int, int, list[Change]] | None = None
    for i, first in enumerate(known):
        for second in known[i + 1 :]:
            a, b = bands[first.name], bands[second.name]
            assert a is not None and b is not None
            for ta in range(1, first.bands + 1):
                for tb in range(1, second.bands + 1):
                    if ta == a or tb == b:
                        continue
                    moved, _ = profile.decide({**bands, first.name: ta, second.name: tb})
                    cost = abs(ta - a) + abs(tb - b)
                    if moved is not None and moved < level and (best is None or cost < best[0]):
                        best = (cost, moved, [(first, a, ta), (second, b, tb)])
    return None if best is None else (best[2], best[1])


def _phrase(changes: list[Change], level: int) -> tuple[str, str]:
    vi: list[str] = []
    en: list[str] = []
    for c, now, target in changes:
        count = c.per == "count"
        if target < now:
            vi.append(c.text_vi.format(value=below(c.edges[target - 1], "vi", count)))
            en.append(c.text_en.format(value=below(c.edges[target - 1], "en", count)))
        else:
            vi.append(c.text_vi.format(value=at_least(c.edges[target - 2], "vi", count)))
            en.append(c.text_en.format(value=at_least(c.edges[target - 2], "en", count)))
    return (
        f"{' và '.join(vi)} → {level_word(level, 'vi')}",
        f"{' and '.join(en)} → {level_word(level, 'en')}",
    )
