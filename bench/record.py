"""Benchmark figures with their targets, and their raw runs kept as JSON in bench/results/."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import Row, memory_total_gib

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Figure:
    """One measured figure: what, the result, its target ('' if none), whether it is met."""

    figure: str
    result: str
    target: str
    met: bool | None  # None: no target

    def row(self) -> Row:
        """The figure as a line of the printed table, its target and verdict beside it."""
        if self.met is None:
            return (self.figure, self.result)
        verdict = "met" if self.met else "**not met**"
        return (self.figure, f"{self.result} (target {self.target}: {verdict})")


def load_now() -> float:
    """The machine's 1-minute load average: over its cores, others shared them."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict[str, Any]:
    """Where the figures were measured; the load shows whether others shared the cores."""
    return {
        "node": platform.node(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_total_gib(), 1),
        "python": platform.python_version(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def write_results(
    name: str,
    scale: str,
    runs: int,
    started: datetime,
    raw: dict[str, Any],
    figures: Sequence[Figure],
    where: Path = RESULTS,
) -> Path:
    """Write one invocation's raw runs and figures to ``<where>/<name>-<scale>-<start>.json``."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}-{scale}-{started:%Y%m%d-%H%M}.json"
    finished = datetime.now().astimezone()
    data = {
        "benchmark": name,
        "command": f"python -m bench --only {name} --scale {scale} --runs {runs}",
        "store": os.environ.get("BAOCAO_WORKER_STORE", "memory"),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": [asdict(f) for f in figures],
        "runs": raw,
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    return path
