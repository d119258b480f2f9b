"""The parts of an epidemic level profile: criteria with bands, matrix cells and holds.

A criterion measures one number (a sum over N days or a cumulative total, per 100,000
people or as a percentage of an age group) and puts it in a band by its edges: with
edges [20, 50, 150], 19.9 is band 1, 20 is band 2 and 150 is band 4. A matrix cell
gives a level when the bands it names match; a hold keeps a level from dropping.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contract.population import AGE_BANDS

if TYPE_CHECKING:
    from contract.levels import LevelInputs

NAME = r"^[a-z][a-z0-9_]*$"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Missing(NamedTuple):
    """Why a criterion has no value, and what would give it one."""

    why_vi: str
    why_en: str
    need_vi: str
    need_en: str


NO_POPULATION = Missing(
    "chưa có số dân của đơn vị",
    "no population figure for the unit",
    "số dân của đơn vị (tệp dân số)",
    "the unit's population (population file)",
)
NO_AGES = Missing(
    "chưa có số dân theo nhóm tuổi",
    "no population by age band",
    "số dân theo nhóm tuổi (tệp dân số)",
    "population by age band (population file)",
)
ZERO_POPULATION = Missing(
    "số dân bằng 0", "the population is 0", "số dân của đơn vị", "the unit's population"
)
NO_DOSES = Missing(
    "chưa có số liệu tiêm chủng cộng dồn",
    "no cumulative vaccination counts",
    "số liệu tiêm chủng theo nhóm tuổi",
    "vaccination counts by age band",
)
NOT_IN_DATASET = Missing("không có trong bộ dữ liệu", "not in the dataset", "", "")


def no_reports(days: int) -> Missing:
    return Missing(
        f"không có báo cáo nào trong {days} ngày",
        f"no report in {days} days",
        f"báo cáo của {days} ngày gần nhất",
        f"reports for the last {days} days",
    )


class Criterion(_Config):
    """One measured number and its bands."""

    name: str = Field(pattern=NAME)
    label_vi: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    # How the value reads in a sentence; "{value}" becomes "28,4" or "dưới 20".
    text_vi: str = Field(pattern=r"\{value\}")
    text_en: str = Field(pattern=r"\{value\}")
    sum: str | None = Field(None, description="metric key summed over `days` days")
    days: int | None = Field(None, ge=1, le=366)
    cumulative: list[str] = Field(default_factory=list, description="keys added up")
    available: bool = Field(True, description="false: the dataset has no such metric")
    per: Literal["count", "population"] = "population"
    ages: list[str] = Field(default_factory=list, description="denominator: these bands")
    scale: float = Field(1.0, gt=0, description="100000 for a rate, 100 for a percentage")
    edges: list[float] = Field(default_factory=list)
    assume_band: int | None = Field(None, ge=1, description="band used when no value")
    unconfirmed: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        if self.available == (self.sum is None and not self.cumulative):
            raise ValueError("give `sum` (with `days`) or `cumulative`, or available = false")
        if self.sum is not None and (self.cumulative or self.days is None):
            raise ValueError("`sum` needs `days` and excludes `cumulative`")
        if self.available and not self.edges:
            raise ValueError("`edges` must name at least one threshold")
        if any(b >= a for a, b in zip(self.edges[1:], self.edges[:-1], strict=True)):
            raise ValueError("`edges` must increase strictly")
        if self.ages and (self.per != "population" or not set(self.ages) <= set(AGE_BANDS)):
            raise ValueError(f"`ages` are age bands of the population: {', '.join(AGE_BANDS)}")
        if self.assume_band is not None and self.assume_band > self.bands:
            raise ValueError(f"`assume_band` must be 1..{self.bands}")
        return self

    @property
    def bands(self) -> int:
        return len(self.edges) + 1

    def band(self, value: float) -> int:
        """1 below the first edge; an edge itself belongs to the band above it."""
        return bisect_right(self.edges, value) + 1

    def measure(self, inputs: LevelInputs) -> tuple[float | None, Missing | None]:
        """The value for ``inputs``, or None and why."""
        if not self.available:
            return None, NOT_IN_DATASET
        if self.sum is not None:
            assert self.days is not None
            raw = inputs.sums.get(f"{self.sum}_{self.days}d")
            if inputs.days_reported.get(self.days) == 0 or raw is None:
                return None, no_reports(self.days)
        else:
            found = [inputs.cumulative[k] for k in self.cumulative if k in inputs.cumulative]
            if not found:
                return None, NO_DOSES
            raw = sum(found)
        if self.per == "count" or raw == 0:
            return float(raw), None  # no cases is a rate of 0, whatever the population
        if inputs.population is None:
            return None, NO_POPULATION
        denominator = inputs.population.ages(self.ages) if self.ages else inputs.population.total
        if denominator is None:
            return None, NO_AGES
        if denominator == 0:
            return None, ZERO_POPULATION
        return raw * self.scale / denominator, None


Bands = Mapping[str, int | None]


class Cell(_Config):
    """One cell of a level matrix: a level when every ``when`` and one ``when_any`` match."""

    id: str = Field(pattern=NAME)
    level: int = Field(ge=1, le=4)
    when: dict[str, list[int]] = Field(default_factory=dict)
    when_any: dict[str, list[int]] = Field(default_factory=dict)
    unconfirmed: bool = False
    note: str = ""

    @property
    def names(self) -> set[str]:
        return set(self.when) | set(self.when_any)

    def test(self, bands: Bands) -> bool | None:
        """True or False, or None when an unknown band decides it (three-valued logic)."""
        every: bool | None = True
        for name, allowed in self.when.items():
            band = bands[name]
            if band is None:
                every = None
            elif band not in allowed:
                return False
        some: bool | None = not self.when_any
        for name, allowed in self.when_any.items():
            band = bands[name]
            if band is None:
                some = None if some is False else some
            elif band in allowed:
                some = True
                break
        if some is False:
            return False
        return True if every is True and some is True else None


class Hold(_Config):
    """A criterion outside the data that, when not met, keeps a level from dropping."""

    name: str = Field(pattern=NAME)
    flag: str = Field(pattern=NAME, description="LevelInputs.flags key: True = met")
    label_vi: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    unconfirmed: bool = False
    note: str = ""
