"""Vaccination ramp: daily doses by age band climbing towards the directives' targets.

A day's doses are the difference of a cumulative coverage curve between that day and
the day before. So any run of days adds up to the coverage reached, never more than the
population, and a day's doses are never negative. Each dose's curve is the previous
dose's curve shifted later and scaled down, so cumulative 2nd doses never exceed 1st
doses, nor boosters 2nd doses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

DOSES = ("vaccine_dose1", "vaccine_dose2", "vaccine_booster")


@dataclass(frozen=True)
class Campaign:
    """When an age band's first doses start, how fast coverage climbs, and how far."""

    start: date
    midpoint: date  # half of the band's target has its first dose
    scale_days: float  # larger: a slower climb
    targets: tuple[float, float, float]  # final coverage of dose 1, dose 2, booster (0: none)
    lags_days: tuple[int, int]  # dose 2 after dose 1, booster after dose 2

    def __post_init__(self) -> None:
        one, two, booster = self.targets
        if not 1 >= one >= two >= booster >= 0:
            raise ValueError("coverage targets must not grow from one dose to the next")


# An approximate national timeline, enough for plausible curves: adults from 8 March 2021
# with the mass campaign in the second half of 2021, 15-17 from late October and 12-14
# from mid-November 2021, boosters in 2022. The directives' target: at least 95% of
# people 15 and over with two doses.
CAMPAIGNS: dict[str, Campaign] = {
    "age_12_14": Campaign(date(2021, 11, 15), date(2021, 12, 20), 10, (0.97, 0.93, 0.0), (28, 0)),
    "age_15_17": Campaign(date(2021, 10, 25), date(2021, 11, 25), 10, (0.98, 0.96, 0.0), (28, 0)),
    "age_18_49": Campaign(date(2021, 3, 8), date(2021, 9, 20), 18, (0.99, 0.97, 0.75), (45, 120)),
    "age_50_64": Campaign(date(2021, 3, 8), date(2021, 9, 10), 18, (0.99, 0.97, 0.80), (45, 120)),
    "age_65_plus": Campaign(date(2021, 3, 8), date(2021, 9, 1), 18, (0.98, 0.96, 0.80), (45, 120)),
}


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def coverage(campaign: Campaign, dose: int, day: date, shift_days: int = 0) -> float:
    """Share of the band with dose ``dose`` (0, 1, 2) by the end of ``day``."""
    target = campaign.targets[dose]
    delay = shift_days + sum(campaign.lags_days[:dose])
    t = (day - campaign.start).days - delay  # days since this dose began here
    if target == 0 or t < 0:
        return 0.0
    mid = (campaign.midpoint - campaign.start).days
    # Rescaled so the curve starts at exactly 0 on the first day and tends to 1.
    floor = _logistic(-mid / campaign.scale_days)
    climbed = (_logistic((t - mid) / campaign.scale_days) - floor) / (1.0 - floor)
    return target * climbed


def cumulative(population: int, band: str, dose: int, day: date, shift_days: int = 0) -> int:
    """People of the band with dose ``dose`` by the end of ``day``."""
    return math.floor(population * coverage(CAMPAIGNS[band], dose, day, shift_days))


def daily_doses(
    population_by_band: Mapping[str, int], day: date, shift_days: int = 0
) -> dict[str, int]:
    """The day's doses as ``vaccine_doseN.age_band`` keys, once that dose has begun.

    Before a dose is offered to a band its key is left out: not reported, not zero.
    """
    out: dict[str, int] = {}
    before = day - timedelta(days=1)
    for band, population in population_by_band.items():
        campaign = CAMPAIGNS.get(band)
        if campaign is None:
            continue
        for dose, metric in enumerate(DOSES):
            delay = shift_days + sum(campaign.lags_days[:dose])
            if campaign.targets[dose] == 0 or day < campaign.start + timedelta(days=delay):
                continue
            now = cumulative(population, band, dose, day, shift_days)
            out[f"{metric}.{band}"] = now - cumulative(population, band, dose, before, shift_days)
    return out
