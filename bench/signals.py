"""Surveillance signals and epidemic levels: what they cost and how fast they come out.

Three figures of issue 24, each next to what it is measured against:
- the detectors' cost: the worker's CPU per report and the end-to-end rate with signals
  on and off, in the same run (``bench.signal_cost``);
- report → its signal on the ``alerts`` topic at 100 reports/s (``bench.signal_latency``);
- epidemic levels of a national day, computed and written (``bench.signal_levels``).

A full-scale run also writes its raw figures, every run, to ``bench/results/``.
"""

from __future__ import annotations

from datetime import datetime

from bench import signal_cost, signal_cost_rows, signal_latency, signal_levels
from bench.common import Row, Scale, progress
from bench.record import write_results


def run(scale: Scale, runs: int) -> list[Row]:
    started = datetime.now().astimezone()
    costs, cost_raw = signal_cost.measure(scale, runs)
    lat, lat_raw = signal_latency.measure(scale, runs)
    lev, lev_raw = signal_levels.measure(scale, runs)
    figures = [
        *signal_cost_rows.figures(costs, scale, cost_raw),
        *signal_latency.figures(lat),
        *signal_levels.figures(lev),
    ]
    if scale == "full":
        path = write_results(
            "signals",
            scale,
            runs,
            started,
            {"cost": cost_raw, "latency": lat_raw, "levels": lev_raw},
            figures,
        )
        progress(f"raw runs written to {path}")
    return [f.row() for f in figures]
