"""Epidemic levels (cấp độ dịch) from rule profiles kept as configuration.

A profile (``contract/data/levels.toml``, or a province's own file in the same form) has
effective dates, criteria, a level matrix and holds; ``Profile.assess`` turns a unit's
counts and population into a level with why and what would change it.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib import resources
from itertools import product
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from contract.errors import ConfigError
from contract.level_explain import Texts, explain, undecided
from contract.level_rules import Bands, Cell, Criterion, Hold, _Config
from contract.level_toml import describe, syntax_position
from contract.population import ConfigFileError, Population

BUILTIN_LEVELS = "levels.toml"
LEVEL_NAMES: dict[int, tuple[str, str]] = {
    1: ("Cấp 1 – Nguy cơ thấp (xanh)", "Level 1 – low risk (green)"),
    2: ("Cấp 2 – Nguy cơ trung bình (vàng)", "Level 2 – medium risk (yellow)"),
    3: ("Cấp 3 – Nguy cơ cao (cam)", "Level 3 – high risk (orange)"),
    4: ("Cấp 4 – Nguy cơ rất cao (đỏ)", "Level 4 – very high risk (red)"),
}
MAX_MATRIX = 4096  # band combinations checked for a complete matrix


@dataclass(frozen=True)
class LevelInputs:
    """What one unit-day's assessment reads."""

    population: Population | None
    sums: Mapping[str, int] = field(default_factory=dict)  # "cases_community_7d" -> 12
    cumulative: Mapping[str, int] = field(default_factory=dict)  # "vaccine_dose1.age_18_49"
    days_reported: Mapping[int, int] = field(default_factory=dict)  # N -> days with a report
    previous_level: int | None = None  # the unit's level before, for holds
    flags: Mapping[str, bool] = field(default_factory=dict)  # facts outside the data


class LevelResult:
    """A level (None when it cannot be assessed) with its reasons.

    The why / what would change it texts cost more than the level itself, and a stream
    re-assesses many days whose result did not change: they are written on first read.
    ``same_as`` tells two results whose level and texts would be equal apart.
    """

    def __init__(
        self,
        level: int | None,
        criteria: dict[str, float | None],
        unconfirmed: list[str],
        texts: Callable[[], Texts],
        basis: tuple[object, ...] = (),
    ) -> None:
        self.level = level
        self.criteria = criteria
        self.unconfirmed = unconfirmed
        self._texts = texts
        #: Everything the level and its texts are computed from, beyond ``criteria``.
        self.basis = basis

    @cached_property
    def texts(self) -> Texts:
        return self._texts()

    @property
    def why_vi(self) -> str:
        return self.texts[0]

    @property
    def why_en(self) -> str:
        return self.texts[1]

    @property
    def next_vi(self) -> str:
        return self.texts[2]

    @property
    def next_en(self) -> str:
        return self.texts[3]

    def fingerprint(self) -> str:
        """A short digest of what decides the level and its texts (equal → same result)."""
        basis = (self.level, sorted(self.criteria.items()), self.unconfirmed, self.basis)
        return hashlib.blake2b(repr(basis).encode(), digest_size=8).hexdigest()


class Profile(_Config):
    """One set of level rules, in force between two dates."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    source: str = Field(min_length=1, description="the decision or plan, cited")
    note: str = ""
    effective_from: date
    effective_to: date | None = None
    level_names: dict[int, tuple[str, str]] = Field(default_factory=dict)
    criteria: list[Criterion] = Field(min_length=1)
    cells: list[Cell] = Field(min_length=1)
    holds: list[Hold] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        if set(self.level_names) - {1, 2, 3, 4}:
            raise ValueError("level_names: keys are the levels 1..4")
        index = {c.name: c for c in self.criteria}
        if len(index) != len(self.criteria) or len({c.id for c in self.cells}) != len(self.cells):
            raise ValueError("a criterion name or a cell id is used twice")
        for cell in self.cells:
            for name, allowed in (*cell.when.items(), *cell.when_any.items()):
                crit = index.get(name)
                if crit is None or not crit.available:
                    raise ValueError(f"cell {cell.id}: no measurable criterion {name!r}")
                if not allowed or not set(allowed) <= set(range(1, crit.bands + 1)):
                    raise ValueError(f"cell {cell.id}: {name} bands must be 1..{crit.bands}")
        self._check_complete()
        return self

    def _check_complete(self) -> None:
        names = [c.name for c in self.rule_criteria]
        sizes = [c.bands for c in self.rule_criteria]
        if _product(sizes) > MAX_MATRIX:
            raise ValueError(f"the matrix has over {MAX_MATRIX} band combinations")
        for combo in product(*(range(1, n + 1) for n in sizes)):
            bands = dict(zip(names, combo, strict=True))
            if not any(cell.test(bands) for cell in self.cells):
                raise ValueError(f"no cell gives a level when {bands}")

    @cached_property
    def rule_criteria(self) -> list[Criterion]:
        """Criteria the matrix reads, in file order."""
        used = set().union(*(cell.names for cell in self.cells))
        return [c for c in self.criteria if c.name in used]

    def is_effective(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def level_name(self, level: int) -> tuple[str, str]:
        """The level's name under this profile (Vietnamese, English)."""
        return self.level_names.get(level) or LEVEL_NAMES[level]

    def sums_needed(self) -> set[tuple[str, int]]:
        """(metric key, days) pairs ``assess`` reads from ``LevelInputs.sums``."""
        return {(c.sum, c.days) for c in self.criteria if c.sum is not None and c.days}

    def cumulative_needed(self) -> set[str]:
        """Keys ``assess`` reads from ``LevelInputs.cumulative``."""
        return {key for c in self.criteria for key in c.cumulative}

    def decide(self, bands: Bands) -> tuple[int | None, list[Cell]]:
        """The level the matrix gives, and the cells that decided it."""
        possible: dict[int, list[Cell]] = {}
        for cell in self.cells:
            outcome = cell.test(bands)
            if outcome is False:
                continue
            possible.setdefault(cell.level, []).append(cell)
            if outcome:
                break
        # Unknown bands still decide when every cell they might match gives one level.
        if len(possible) != 1:
            return None, []
        ((level, cells),) = possible.items()
        return level, cells

    def assess(self, inputs: LevelInputs) -> LevelResult:
        """The level for ``inputs``, why, and what would change it."""
        measured = {c.name: c.measure(inputs) for c in self.criteria}
        values = {name: value for name, (value, _) in measured.items()}
        bands: dict[str, int | None] = {}
        for c in self.rule_criteria:
            value = values[c.name]
            bands[c.name] = c.band(value) if value is not None else c.assume_band
        level, cells = self.decide(bands)
        missing = tuple(sorted((n, repr(m)) for n, (_, m) in measured.items() if m is not None))
        if level is None:
            return LevelResult(
                None, values, [], lambda: undecided(self, measured, bands), (missing,)
            )
        held = None
        if inputs.previous_level is not None and level < inputs.previous_level:
            held = next((h for h in self.holds if inputs.flags.get(h.flag) is False), None)
        index = {c.name: c for c in self.criteria}
        unconfirmed = [
            *(n for n in index if index[n].unconfirmed and any(n in c.names for c in cells)),
            *(f"matrix:{c.id}" for c in cells if c.unconfirmed),
            *([held.name] if held is not None and held.unconfirmed else []),
        ]
        final = level if held is None else max(level, inputs.previous_level or level)
        estimated = inputs.population is not None and inputs.population.estimated
        flags = tuple(sorted(inputs.flags.items()))
        reported = tuple(sorted(inputs.days_reported.items()))
        held_by = None if held is None else held.name
        return LevelResult(
            final,
            values,
            unconfirmed,
            lambda: explain(self, inputs, measured, bands, level, held),
            (missing, level, held_by, inputs.previous_level, flags, estimated, reported),
        )


class LevelsFile(_Config):
    """The on-disk form: one or more profiles."""

    note: str = ""
    profiles: list[Profile] = Field(min_length=1)


class LevelProfiles:
    """Every known profile; picks the one in force on a day."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self._profiles: list[Profile] = []
        self._index: dict[str, Profile] = {}
        for profile in profiles:
            if profile.id in self._index:
                raise ConfigError(
                    f"hồ sơ cấp độ {profile.id!r} được khai báo hai lần / "
                    f"level profile {profile.id!r} is defined twice"
                )
            self._profiles.append(profile)
            self._index[profile.id] = profile

    def __iter__(self) -> Iterator[Profile]:
        return iter(self._profiles)

    def __len__(self) -> int:
        return len(self._profiles)

    def get(self, profile_id: str) -> Profile:
        found = self._index.get(profile_id)
        if found is None:
            raise ConfigError(
                f"không có hồ sơ cấp độ {profile_id!r} / no level profile {profile_id!r}; "
                f"known: {', '.join(self._index)}"
            )
        return found

    def for_day(self, day: date, profile_id: str | None = None) -> Profile | None:
        """The profile in force on ``day``; an explicit id wins if it is in force.

        When several are in force, the one that took effect last wins (a province's plan
        adopted after a national decision; a newer decision after that plan), and on
        the same start date the one loaded last (a province's file after the shipped one).
        """
        if profile_id is not None and self.get(profile_id).is_effective(day):
            return self.get(profile_id)
        in_force = [
            (p.effective_from, i) for i, p in enumerate(self._profiles) if p.is_effective(day)
        ]
        return self._profiles[max(in_force)[1]] if in_force else None

    @classmethod
    def load(cls, extra: Path | None = None) -> LevelProfiles:
        """The shipped profiles, plus a province's own file when given."""
        shipped = resources.files("contract").joinpath("data", BUILTIN_LEVELS)
        profiles = read_profiles(shipped.read_bytes(), f"contract/data/{BUILTIN_LEVELS}")
        if extra is not None:
            try:
                raw = extra.read_bytes()
            except OSError as exc:
                raise ConfigError(
                    f"không đọc được tệp cấp độ {extra} / cannot read level profiles {extra}: {exc}"
                ) from exc
            profiles += read_profiles(raw, str(extra))
        return cls(profiles)


def read_profiles(raw: bytes, name: str) -> list[Profile]:
    """Parse and check one profiles file; errors name its line and column."""
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigFileError(name, 1, 1, "tệp không phải UTF-8", f"not UTF-8: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        line, column, message = syntax_position(exc)
        raise ConfigFileError(
            name, line, column, f"sai cú pháp TOML ({message})", f"invalid TOML: {message}"
        ) from exc
    try:
        return list(LevelsFile.model_validate(data).profiles)
    except ValidationError as exc:
        line, column, where, message = describe(exc, text, data)
        raise ConfigFileError(
            name, line, column, f"{where}: không hợp lệ – {message}", f"{where}: {message}"
        ) from exc


def _product(sizes: list[int]) -> int:
    total = 1
    for n in sizes:
        total *= n
    return total
