"""The EWMA (NSSP-ESSENCE) and EARS C2 statistics over one window of daily values.

``values`` holds the ``B + g + 1`` days ending on the tested day (last item); ``None`` is a
day not reported. The EWMA follows CDC's Rnssp package, R/alert_ewma.R, ``ewma_loop``
(v0.3.1), run over that window as if it were the whole series:
- baseline of day i: the reported days among the ``B`` days ending ``g + 1`` days before it
  (it grows from ``min_baseline_days`` at the window's start, as Rnssp's warm-up does);
- smoothed value z = w·y + (1 − w)·z, starting at the window's first reported day; a day
  not reported leaves z as it was (Rnssp assumes no gaps: skipping is our rule);
- sigma = max(min_sigma, sd·correction + delta), correction and delta as in ESSENCE;
- statistic = (z − mean) / sigma; p = P(T > statistic), T ~ t(n − 1); when |statistic|
  exceeds the red limit, z is pulled back to mean ± limit·sigma before the next day;
- the smoothing with the smaller p wins (on a tie the later one, as Rnssp).
Starting at the window leaves a weight of (1 − w)^(B+g) on older days: 2e-7 for w = 0.4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from contract.signal_config import EarsC2Rule, EwmaRule
from streams.tdist import t_quantile, t_sf

Window = Sequence[float | None]


class Baseline(NamedTuple):  # a tuple: built for every day of every window, so cheap
    days: int
    mean: float
    sd: float  # sample standard deviation (n − 1)


@dataclass(frozen=True)
class EwmaOutcome:
    smoothing: float
    smoothed: float  # before any pull-back, as tested
    baseline: Baseline
    sigma: float
    statistic: float
    p_value: float
    degrees_of_freedom: int


@dataclass(frozen=True)
class C2Outcome:
    baseline: Baseline
    sigma: float
    statistic: float


def baselines(values: Window, days: int, guard: int, minimum: int) -> list[Baseline | None]:
    """Each day's baseline (None when fewer than ``minimum`` days were reported)."""
    out: list[Baseline | None] = []
    total = squares = 0.0
    count = lo = hi = 0
    for i in range(len(values)):
        new_lo, new_hi = i - guard - days, i - guard  # negative: before the window
        while hi < new_hi:  # slide the window's end forward
            v = values[hi]
            if v is not None:
                total, squares, count = total + v, squares + v * v, count + 1
            hi += 1
        while lo < new_lo:  # and its start
            v = values[lo]
            if v is not None:
                total, squares, count = total - v, squares - v * v, count - 1
            lo += 1
        if count < max(minimum, 2):
            out.append(None)
            continue
        mean = total / count
        variance = max(0.0, (squares - total * mean) / (count - 1))
        out.append(Baseline(count, mean, math.sqrt(variance)))
    return out


@lru_cache(maxsize=4096)
def _limits(
    w: float, n: int, guard: int, warning_p: float, critical_p: float, floor: tuple[float, float]
) -> tuple[float, float, float, float]:
    """(correction, delta, min_sigma, red limit) for smoothing ``w`` and ``n`` baseline days."""
    df = n - 1
    # Rnssp rounds the t limits to 5 decimals; so do we, to give its numbers.
    red = round(t_quantile(1.0 - critical_p, df), 5)
    yellow = round(t_quantile(1.0 - warning_p, df), 5)
    # Variance of z − mean for independent days, relative to the days' own variance.
    correction = math.sqrt(
        w / (2.0 - w) + 1.0 / n - 2.0 * (1.0 - w) ** (guard + 1) * (1.0 - (1.0 - w) ** n) / n
    )
    # ESSENCE's small-count term, added to the scaled sd (Rnssp's constant1/constant2).
    delta = (0.1289 - (0.2414 - 0.1826 * (1.0 - w) ** 4) * math.log(10.0 * warning_p)) * w / yellow
    minimum = (w / yellow) * (floor[0] + floor[1] * (1.0 - w) ** 2)
    return correction, delta, minimum, red


def ewma(values: Window, rule: EwmaRule) -> EwmaOutcome | None:
    """The EWMA test of the window's last day; None when it cannot be tested."""
    if not values or values[-1] is None:
        return None
    base = baselines(values, rule.baseline_days, rule.guard_days, rule.min_baseline_days)
    last = base[-1]
    if last is None:
        return None
    best: tuple[float, float, float, float] | None = None  # statistic, w, z, sigma
    for w in rule.smoothing:
        found = _smooth(values, base, w, rule)
        # Every smoothing has the same degrees of freedom on the tested day, so the larger
        # statistic is the smaller p (on a tie the later smoothing, as Rnssp).
        if found is not None and (best is None or found[0] >= best[0]):
            best = (found[0], w, found[1], found[2])
    if best is None:
        return None
    statistic, w, z, sigma = best
    df = last.days - 1
    return EwmaOutcome(w, z, last, sigma, statistic, t_sf(statistic, df), df)


def _smooth(
    values: Window, base: list[Baseline | None], w: float, rule: EwmaRule
) -> tuple[float, float, float] | None:
    """(statistic, smoothed value, sigma) of the last day for smoothing ``w``."""
    z: float | None = None
    last = len(values) - 1
    keep = 1.0 - w
    floor = rule.sd_floor
    limits: dict[int, tuple[float, float, float, float]] = {}
    for i, y in enumerate(values):
        if y is None:
            continue
        if z is None:
            z = float(y)
            continue
        z = w * y + keep * z
        b = base[i]
        if b is None:
            continue
        lim = limits.get(b.days)
        if lim is None:
            lim = limits[b.days] = _limits(
                w, b.days, rule.guard_days, rule.warning_p, rule.critical_p, rule.min_sigma
            )
        correction, delta, minimum, red = lim
        sd = b.sd if b.sd > floor else floor
        sigma = sd * correction + delta
        if sigma < minimum:
            sigma = minimum
        statistic = (z - b.mean) / sigma
        if i == last:
            return statistic, z, sigma
        if statistic > red or statistic < -red:
            z = b.mean + math.copysign(red * sigma, statistic)
    return None


def ears_c2(values: Window, rule: EarsC2Rule) -> C2Outcome | None:
    """EARS C2 of the window's last day: (y − mean) / max(sd, floor) over its baseline."""
    if not values or values[-1] is None:
        return None
    b = baselines(values, rule.baseline_days, rule.guard_days, rule.min_baseline_days)[-1]
    if b is None:
        return None
    sigma = max(b.sd, rule.sd_floor)
    return C2Outcome(b, sigma, (values[-1] - b.mean) / sigma)
