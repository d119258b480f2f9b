"""The worker's RocksDB tables alone: resident memory while they fill, in-process.

Two tables of four partitions each, opened by Faust's own RocksDB store options (as the
worker opens them), take ``n`` read-then-write keys: a ledger-sized value per new
unit-day, and an alert mark for every third. Each configuration runs in a fresh child
process, so its RSS starts from the same baseline. The yardstick is the same load with
the options the worker had before (1 MiB memtables, 2 MiB block caches), in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Row, Scale, rss_mib
from bench.stack import PARTITIONS

SIZES: dict[Scale, int] = {"small": 100_000, "full": 1_000_000}
PREVIOUS: dict[str, Any] = {"write_buffer_size": 1 << 20, "block_cache_size": 2 << 20}
UNITS = 10_000
#: A ledger entry as the worker stores it (flat JSON list, ≈ 0.5 KB) and an alert mark.
ENTRY = json.dumps(["2021-07-27T14:00:00+07:00", "on_time", 1, "r" * 36, 1, "c" * 32, 0, 7])
ENTRY += " " * max(0, 480 - len(ENTRY))
MARK = b'"2021-07-27T15:00:00+07:00"'


def fill(root: Path, n: int, overrides: dict[str, Any]) -> list[float]:
    """RSS (MiB) after each tenth of ``n`` read-then-writes, with the worker's options."""
    from faust.stores.rocksdb import RocksDBOptions

    from streams.state import ROCKSDB_OPTIONS

    options = {k: v for k, v in ROCKSDB_OPTIONS.items() if k != "driver"} | overrides
    dbs = {}
    for table in ("ledger", "alerts_sent"):
        for p in range(PARTITIONS):
            opened = RocksDBOptions(**options)
            opened.use_rocksdict = True
            dbs[table, p] = opened.open(root / f"{table}-{p}")
    entry, marks = ENTRY.encode(), []
    for i in range(n):
        unit, day = i % UNITS, i // UNITS
        p = unit % PARTITIONS
        key = f"district-daily|{unit:05d}|{day}".encode()
        ledger = dbs["ledger", p]
        ledger.get(key)
        ledger[key] = entry
        if i % 3 == 0:
            sent = dbs["alerts_sent", p]
            mark = f"late:district-daily:{unit:05d}:{day}".encode()
            sent.get(mark)
            sent[mark] = MARK
        if (i + 1) % (n // 10) == 0:
            marks.append(rss_mib(os.getpid()))
    for db in dbs.values():
        db.close()
    return marks


def child(n: int, overrides: dict[str, Any]) -> tuple[list[float], float]:
    """Run ``fill`` in a fresh interpreter; return its RSS marks and seconds."""
    code = (
        "import json, sys, time; from pathlib import Path; from bench.store import fill; "
        "t = time.perf_counter(); "
        "m = fill(Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])); "
        "print(json.dumps([m, time.perf_counter() - t]))"
    )
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        repo = str(Path(__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.getenv("PYTHONPATH")])),
        }
        out = subprocess.run(
            [sys.executable, "-c", code, tmp, str(n), json.dumps(overrides)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    marks, seconds = json.loads(out.stdout.strip().splitlines()[-1])
    return marks, seconds


def show(marks: list[float], seconds: float, n: int) -> str:
    base, end, top = marks[0], marks[-1], max(marks)
    return (
        f"{base:.0f} / {marks[4]:.0f} / {end:.0f} MiB at 10 / 50 / 100 %, "
        f"largest rise from the 10 % value {100 * (top - base) / base:.1f} %; "
        f"{seconds / n * 1e6:.1f} µs per read-then-write"
    )


def run(scale: Scale, runs: int) -> list[Row]:
    n = SIZES[scale]
    rows: list[Row] = []
    for label, overrides in (("shipped options", {}), ("yardstick: previous options", PREVIOUS)):
        started = time.perf_counter()
        marks, seconds = child(n, overrides)
        rows.append(
            (
                f"worker tables in RocksDB alone, {n:,} keys, {label} "
                f"({time.perf_counter() - started:.0f} s)",
                show(marks, seconds, n),
            )
        )
    return rows
