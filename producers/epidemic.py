"""A plausible epidemic for every reporting unit: outbreak waves, tests, contacts, doses.

Every number is a function of (seed, unit, day, version) alone, so any range of days
gives the same values as a longer run that contains it, and a scenario can pin one
unit-day without disturbing any other.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from contract.datasets import Catalog, Dataset
from contract.registry import Registry, Unit, UnitKind
from producers.vaccination import daily_doses

WAVE_BLOCK_DAYS = 60  # a unit may start one random wave per block of days
EPOCH = date(2020, 1, 1)
# Vietnam had few community cases before the fourth wave began on 27 April 2021.
FOURTH_WAVE = date(2021, 4, 27)
# F0 were treated at home only from autumn 2021 (Ministry of Health guidance).
HOME_TREATMENT_FROM = date(2021, 9, 1)
# Rough shares of Vietnam's population by age band, used when a unit has no age bands.
AGE_SHARES = {
    "age_12_14": 0.046,
    "age_15_17": 0.043,
    "age_18_49": 0.48,
    "age_50_64": 0.155,
    "age_65_plus": 0.077,
}
# Fallback when neither the unit nor its province has a population: about 96 million
# people (2019 census) over 696 districts or 10,035 communes, or 3,321 merged communes.
DISTRICT_POPULATION = 138_000
DEFAULT_POPULATION = {
    ("2021", UnitKind.DISTRICT): DISTRICT_POPULATION,
    ("2021", UnitKind.COMMUNE): 9_600,
    ("2025", UnitKind.COMMUNE): 29_000,
}


@dataclass(frozen=True)
class Wave:
    """An outbreak in one unit: new cases climb to a peak and fade."""

    start: date
    days: int
    peak_cases: float
    community_share: float  # share of cases found outside quarantine as the wave starts

    def expected_cases(self, day: date) -> float:
        t = (day - self.start).days
        if not 0 <= t < self.days:
            return 0.0
        sigma = max(self.days / 5, 1.0)
        return self.peak_cases * math.exp(-0.5 * ((t - self.days * 0.35) / sigma) ** 2)

    def community(self, day: date) -> float:
        # Tracing catches up: late in a wave most new cases are already quarantined.
        progress = (day - self.start).days / self.days
        return self.community_share * (1.0 - 0.8 * progress)


@dataclass(frozen=True)
class CaseSplit:
    """New cases by where they were found (disjoint parts of ``cases_new``)."""

    community: int = 0
    quarantined: int = 0
    unknown_source: int = 0

    @property
    def total(self) -> int:
        return self.community + self.quarantined + self.unknown_source


@dataclass
class Overrides:
    """What a scenario imposes: exact cases, quiet periods, extra waves, busier posts."""

    cases: dict[tuple[str, date], CaseSplit] = field(default_factory=dict)
    notes: dict[tuple[str, date], str] = field(default_factory=dict)
    quiet: list[tuple[str, date, date]] = field(default_factory=list)  # province, first, last
    waves: dict[str, list[Wave]] = field(default_factory=dict)
    surges: dict[str, list[tuple[date, date, float]]] = field(default_factory=dict)


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # Knuth's method is slow and underflows for large means
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def binomial(rng: random.Random, n: int, p: float) -> int:
    if n > 200:
        mean = n * p
        return min(n, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - p) or 1e-9)))))
    return sum(rng.random() < p for _ in range(n))


class EpidemicModel:
    """Values for any unit, dataset and day; ``version`` 1+ are corrected reports."""

    def __init__(
        self,
        registry: Registry,
        catalog: Catalog,
        seed: int = 7,
        overrides: Overrides | None = None,
    ) -> None:
        self.registry = registry
        self.catalog = catalog
        self.seed = seed
        self.overrides = overrides or Overrides()
        self._waves: dict[tuple[str, int], Wave | None] = {}
        self._population: dict[str, int] = {}
        self._peer_counts: Counter[tuple[str, UnitKind]] | None = None
        self._keys: dict[str, set[str]] = {}  # value keys per dataset

    def _rng(self, *parts: object) -> random.Random:
        # A string seed is hashed with SHA-512: stable across runs and PYTHONHASHSEED.
        return random.Random("/".join(str(p) for p in (self.seed, *parts)))

    def pinned(self, unit_id: str, day: date) -> bool:
        return (unit_id, day) in self.overrides.cases

    def note(self, unit_id: str, day: date) -> str:
        return self.overrides.notes.get((unit_id, day), "")

    def population(self, unit: Unit) -> int:
        if unit.unit_id not in self._population:
            self._population[unit.unit_id] = self._estimate_population(unit)
        return self._population[unit.unit_id]

    def bands(self, unit: Unit) -> dict[str, int]:
        """Population by age band: the registry's, else estimated from the total."""
        total = self.population(unit)
        return unit.population_by_age or {b: int(total * s) for b, s in AGE_SHARES.items()}

    def _estimate_population(self, unit: Unit) -> int:
        if unit.population:
            return unit.population
        province = self.registry.get(unit.province_id)
        if province is not None and province.population:
            return province.population // max(1, self._peers()[(unit.province_id, unit.kind)])
        return DEFAULT_POPULATION.get((self.registry.hierarchy, unit.kind), DISTRICT_POPULATION)

    def _peers(self) -> Counter[tuple[str, UnitKind]]:
        """Units per province and kind, counted once: a national registry has 10,000."""
        if self._peer_counts is None:
            self._peer_counts = Counter((u.province_id, u.kind) for u in self.registry)
        return self._peer_counts

    def _random_wave(self, unit_id: str, block: int) -> Wave | None:
        key = (unit_id, block)
        if key not in self._waves:
            rng = self._rng(unit_id, "wave", block)
            wave = None
            if rng.random() < 0.3:
                wave = Wave(
                    start=EPOCH
                    + timedelta(days=block * WAVE_BLOCK_DAYS + rng.randrange(WAVE_BLOCK_DAYS)),
                    days=rng.randint(12, WAVE_BLOCK_DAYS),
                    peak_cases=round(math.exp(rng.uniform(0.0, math.log(30.0))), 1),
                    community_share=rng.uniform(0.3, 0.8),
                )
            self._waves[key] = wave
        return self._waves[key]

    def random_waves(self, unit_id: str, day: date) -> list[Wave]:
        """Random waves that may be running on ``day`` (one lasts at most a block)."""
        block = (day - EPOCH).days // WAVE_BLOCK_DAYS
        found = [self._random_wave(unit_id, b) for b in (block - 1, block)]
        return [w for w in found if w is not None]

    def quiet(self, unit: Unit, day: date) -> bool:
        return any(
            p == unit.province_id and first <= day <= last
            for p, first, last in self.overrides.quiet
        )

    def expected_cases(self, unit: Unit, day: date) -> float:
        """Mean new cases: sporadic ones plus every running wave's."""
        era = 1.0 if day >= FOURTH_WAVE else 0.05
        # A commune's outbreak is smaller than a district's: scale by population.
        size = min(5.0, max(0.05, self.population(unit) / DISTRICT_POPULATION))
        random_part = 0.05 + sum(
            w.expected_cases(day) for w in self.random_waves(unit.unit_id, day)
        )
        scenario_part = sum(
            w.expected_cases(day) for w in self.overrides.waves.get(unit.unit_id, [])
        )
        # Quiet: no spread in the community, so random outbreaks stay small.
        calm = 0.1 if self.quiet(unit, day) else 1.0
        return random_part * era * size * calm + scenario_part

    def cases(self, unit: Unit, day: date, rng: random.Random) -> CaseSplit:
        pinned = self.overrides.cases.get((unit.unit_id, day))
        if pinned is not None:
            return pinned
        running = self.random_waves(unit.unit_id, day) + self.overrides.waves.get(unit.unit_id, [])
        waves = [w for w in running if w.expected_cases(day) > 0]
        share = max((w.community(day) for w in waves), default=0.5)
        n = poisson(rng, self.expected_cases(unit, day))
        quarantined = binomial(rng, n, 1.0 - share)
        if self.quiet(unit, day):
            return CaseSplit(quarantined=quarantined)
        unknown = binomial(rng, n - quarantined, 0.15)
        return CaseSplit(n - quarantined - unknown, quarantined, unknown)

    def values(self, ds: Dataset, unit: Unit, day: date, version: int = 0) -> dict[str, int]:
        """One report's values; only keys the dataset defines."""
        rng = self._rng(unit.unit_id, ds.code, day.isoformat(), version)
        if ds.code == "checkpoint-daily":
            raw = self._checkpoint(unit, day, rng)
        else:
            raw = self._district(unit, day, rng)
        if ds.code not in self._keys:
            self._keys[ds.code] = set(self.catalog.value_keys(ds))
        return {k: v for k, v in raw.items() if k in self._keys[ds.code]}

    def _district(self, unit: Unit, day: date, rng: random.Random) -> dict[str, int]:
        split = self.cases(unit, day, rng)
        cases, lam = split.total, self.expected_cases(unit, day)
        population = self.population(unit)
        recent = sum(self.expected_cases(unit, day - timedelta(days=k)) for k in range(14))
        f1 = cases * rng.randint(8, 30) + rng.randint(0, 3)
        # The day's cases plus known F0 testing positive again.
        positives = cases + poisson(rng, lam * 0.2)
        tests_antigen = int(population * 0.0015 * rng.uniform(0.5, 1.5) + lam * 150)
        values = {
            "cases_new": cases,
            "cases_community": split.community,
            "cases_quarantined": split.quarantined,
            "cases_unknown_source": split.unknown_source,
            # About 0.5% of cases, two weeks after they were found.
            "deaths": poisson(rng, self.expected_cases(unit, day - timedelta(days=14)) * 0.005),
            "f1_new": f1,
            # Stocks: people still isolated from the last 14 days' contacts and arrivals.
            "centralized_quarantine": int(recent * 14 * rng.uniform(0.8, 1.2)) + rng.randint(0, 5),
            "home_isolation": int((recent * 6 + population * 0.0004) * rng.uniform(0.8, 1.2)),
            "f0_home_treatment": (
                int(recent * 0.3 * rng.uniform(0.5, 1.0)) if day >= HOME_TREATMENT_FROM else 0
            ),
            "arrivals_monitored": int(population * 0.0008 * rng.uniform(0.6, 1.4)),
            # Every F1, every positive and a share of the population are tested.
            "tests_pcr": int(population * 0.0006 * rng.uniform(0.5, 1.5)) + positives * 20 + f1,
            "tests_pcr_positive": positives,
            "tests_antigen": tests_antigen,
            "tests_antigen_positive": min(tests_antigen, poisson(rng, lam * 0.7)),
        }
        shift = self._rng(unit.unit_id, "vaccination").randint(-20, 20)  # not all at once
        values.update(daily_doses(self.bands(unit), day, shift))
        return values

    def _checkpoint(self, unit: Unit, day: date, rng: random.Random) -> dict[str, int]:
        usual = self._rng(unit.unit_id, "traffic").randint(300, 2500)  # the post's own road
        surges = self.overrides.surges.get(unit.unit_id, [])
        surge = max((f for first, last, f in surges if first <= day <= last), default=1.0)
        weekend = 1.2 if day.weekday() >= 5 else 1.0
        screened = int(usual * weekend * surge * rng.uniform(0.8, 1.2))
        from_epidemic = min(screened, int(screened * rng.uniform(0.02, 0.08) * surge))
        tests = min(screened, from_epidemic + int(screened * rng.uniform(0.0, 0.05)))
        era = 1.0 if day >= FOURTH_WAVE else 0.1
        return {
            "people_screened": screened,
            "vehicles_screened": int(screened * rng.uniform(0.3, 0.5)),
            "from_epidemic_areas": from_epidemic,
            "sent_to_quarantine": min(from_epidemic, poisson(rng, from_epidemic * 0.02 * surge)),
            "tests_antigen": tests,
            "tests_antigen_positive": min(tests, poisson(rng, tests * 0.0005 * era * surge)),
            "violations": poisson(rng, 0.8),
        }
