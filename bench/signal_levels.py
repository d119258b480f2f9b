"""Epidemic levels of a national day: every commune, district and province, computed and written.

In process, no broker: the national registry of the 2021 hierarchy with its ~10,000
communes reporting (``contract.registry_national``; at small scale the demo provinces'
communes), each commune given ``HISTORY_DAYS`` days of the simulator's figures before
``DAY`` and a population estimate from the same model. The engine's own code path
(``SignalEngine.observe`` through ``bench.signal_replay``) then assesses ``DAY``, a
Sunday, so every unit and area gets a provisional and an official level; the
``LevelAssessed`` events are written as the worker sends them and the sink writes them
(``ClickHouseSink``: its row functions, batches and ``Warehouse`` insert) to a fresh chDB.
Two ways of computing, each timed and written:
- once per subject: every commune, then every district and province on its children's sum;
- as the stream does: each commune's report re-evaluates its district and its province.
"""

from __future__ import annotations

import json
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import Runs, Scale, collect, progress
from bench.record import Figure, load_now
from bench.signal_replay import Replay
from bench.stack import PARTITIONS
from contract import topics
from contract.datasets import Catalog
from contract.events import LevelAssessed
from contract.levels import LevelProfiles
from contract.population import AGE_BANDS, Population
from contract.registry import Registry, Unit, UnitKind
from contract.registry_build import DEMO_PROVINCES, build_registry
from contract.registry_national import assignments, build_national
from contract.settings import Settings
from contract.signal_config import SignalConfig
from producers.epidemic import EpidemicModel
from sinks.clickhouse import ClickHouseSink
from sinks.consumer import MAX_POLL_RECORDS
from streams.signal_watch import ROLL_UP_BATCH
from streams.signals import SignalEngine
from warehouse.client import Warehouse

DATASET = "district-daily"
DAY = date(2021, 9, 19)  # a Sunday under QĐ 2686 (14-day window): day and week levels
HISTORY_DAYS = 13  # before DAY: with it, the 14 days QĐ 2686 reads
SEED = 24
TARGET_SECONDS = 5.0
Values = dict[str, dict[str, int]]  # subject -> kept values of one day


def registry(scale: Scale) -> Registry:
    """Communes report district-daily: the whole country, or the demo's five provinces."""
    if scale == "full":
        return build_national("2021", "commune")
    return build_registry(list(DEMO_PROVINCES), "2021", assignments=assignments("commune"))


def populations(reg: Registry, model: EpidemicModel) -> dict[str, Population]:
    """Each commune's population as the simulator's model sizes it (an estimate)."""
    out: dict[str, Population] = {}
    for unit in reg.filter(kind=UnitKind.COMMUNE):
        total, bands = model.population(unit), dict(model.bands(unit))
        bands["age_0_11"] = max(0, total - sum(bands.values()))
        by_age = {b: bands[b] for b in AGE_BANDS if b in bands}
        out[unit.unit_id] = Population(total, by_age, True, "bench: the simulator's estimate")
    return out


def day_values(engine: SignalEngine, model: EpidemicModel, units: list[Unit], day: date) -> Values:
    """Each unit's simulated figures of one day, the keys the engine keeps."""
    ds = engine.catalog.get(DATASET)
    assert ds is not None
    return {u.unit_id: engine.extract(DATASET, model.values(ds, u, day)) for u in units}


def area_sums(replay: Replay, values: Values) -> Values:
    """Each area's day: the sum of its communes' values."""
    sums: Values = {}
    for commune, kept in values.items():
        for area in replay.areas(commune):
            total = sums.setdefault(area, {})
            for k, v in kept.items():
                total[k] = total.get(k, 0) + v
    return sums


def once_per_subject(replay: Replay, values: Values, day: date) -> list[LevelAssessed]:
    """Every commune, then every area (districts before provinces) once, on its sum."""
    levels: list[LevelAssessed] = []
    for commune, kept in values.items():
        outcome = replay.observe(commune, DATASET, day, [1], kept)
        levels += outcome.levels if outcome else []
    for area, total in area_sums(replay, values).items():
        outcome = replay.observe(area, DATASET, day, [], total)
        levels += outcome.levels if outcome else []
    return levels


def as_stream(replay: Replay, values: Values, day: date) -> list[LevelAssessed]:
    """Each commune's report, its district and province re-evaluated once per batch.

    A batch is what the roll-up agent takes at once when the communes report faster
    than it evaluates (``ROLL_UP_BATCH`` updates, two per commune).
    """
    levels: list[LevelAssessed] = []
    reports = [(commune, DATASET, day, [1], kept) for commune, kept in values.items()]
    per_batch = ROLL_UP_BATCH // 2
    for i in range(0, len(reports), per_batch):
        for outcome in replay.batch(reports[i : i + per_batch]):
            levels += outcome.levels
    return levels


class Setup:
    """A registry, an engine and every subject's history up to the day before ``DAY``."""

    def __init__(self, scale: Scale) -> None:
        t0 = time.perf_counter()
        self.registry = reg = registry(scale)
        catalog = Catalog.load()
        model = EpidemicModel(reg, catalog, SEED)
        engine = SignalEngine(
            SignalConfig.load(), LevelProfiles.load(), populations(reg, model), reg, catalog
        )
        replay = Replay(engine)
        units = reg.expected(DATASET, DAY)
        self.communes = [u.unit_id for u in units]

        def values(day: date) -> Values:
            return day_values(engine, model, units, day)

        first = DAY - timedelta(days=HISTORY_DAYS)
        for day in (first + timedelta(days=i) for i in range(HISTORY_DAYS - 1)):
            kept = values(day)
            for subject, v in {**kept, **area_sums(replay, kept)}.items():
                replay.seed(subject, DATASET, day, v)
        once_per_subject(replay, values(DAY - timedelta(days=1)), DAY - timedelta(days=1))
        self.values = values(DAY)
        self.snapshot = json.dumps(replay.series)
        self.engine = engine
        self.seconds = time.perf_counter() - t0

    def replay(self) -> Replay:
        """A fresh replay holding the history (the day before included), nothing of DAY."""
        return Replay(self.engine, series=json.loads(self.snapshot))


def write(wh: Warehouse, levels: list[LevelAssessed], settings: Settings) -> None:
    """Send the levels as the worker does and write them as the sink does, polls of 500."""
    sink = ClickHouseSink(wh, settings.sink_batch_rows)
    offsets = [0] * PARTITIONS
    for i, level in enumerate(levels):
        part = zlib.crc32(level.unit_id.encode()) % PARTITIONS
        sink.add(topics.LEVELS, part, offsets[part], level.to_json())
        offsets[part] += 1
        if (i + 1) % MAX_POLL_RECORDS == 0 and sink.due(settings.sink_flush_seconds):
            sink.flush()
    sink.flush()


def timed(
    setup: Setup, how: Callable[[Replay, Values, date], list[LevelAssessed]], settings: Settings
) -> dict[str, float]:
    replay = setup.replay()
    t0 = time.perf_counter()
    levels = how(replay, setup.values, DAY)
    t1 = time.perf_counter()
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        t2 = time.perf_counter()
        write(wh, levels, settings)
        t3 = time.perf_counter()
        ((rows, stored),) = wh.query_rows("SELECT count(), uniqExact(unit_id, period) FROM levels")
    assessed = len({(lv.unit_id, lv.period) for lv in levels})
    if stored != assessed:
        raise RuntimeError(f"{assessed} subjects' levels sent, {stored} in the warehouse")
    found = Counter(str(lv.level) for lv in levels if lv.period == "day")
    return {
        "compute_s": t1 - t0,
        "write_s": t3 - t2,
        "total_s": t1 - t0 + t3 - t2,
        "sent": len(levels),
        "rows": rows,  # identical rows of one instant collapse on insert (ReplacingMergeTree)
        **{f"level_{k}": v for k, v in found.items()},
    }


def measure(scale: Scale, runs: int) -> tuple[dict[str, Runs], list[dict[str, Any]]]:
    setup = Setup(scale)
    kinds = Counter(u.kind.value for u in setup.registry)
    progress(
        f"levels: {len(setup.communes):,} communes reporting, {kinds['district']} districts, "
        f"{kinds['province']} provinces; history of {HISTORY_DAYS} days set up in "
        f"{setup.seconds:.1f} s"
    )
    raw: list[dict[str, Any]] = []

    def one_run(i: int) -> dict[str, float]:
        progress(f"levels run {i + 1}/{runs}: {DAY}")
        load = load_now()
        with tempfile.TemporaryDirectory(prefix="bench-levels-") as tmp:
            settings = Settings(chdb_path=Path(tmp) / "warehouse")
            a = timed(setup, once_per_subject, settings)
            b = timed(setup, as_stream, settings.model_copy(update={"database": "bench_stream"}))
        progress(f"  once per subject {a['total_s']:.2f} s, as the stream {b['total_s']:.2f} s")
        result = {
            "communes": len(setup.communes),
            "load_1min": load,
            "setup_s": setup.seconds,
            **{f"once_{k}": v for k, v in a.items()},
            **{f"stream_{k}": v for k, v in b.items()},
        }
        raw.append(result)
        return {k: v for k, v in result.items() if "_level_" not in k}

    return collect(runs, one_run), raw


def figures(r: dict[str, Runs]) -> list[Figure]:
    where = (
        f"{r['communes'].median:,.0f} communes reporting + their districts and provinces, "
        f"{DAY} (a Sunday: day and week levels), {HISTORY_DAYS} days of history each"
    )

    def result(p: str) -> str:
        return (
            f"**{r[p + '_total_s'].show('.2f', ' s')}**: compute {r[p + '_compute_s'].median:.2f}"
            f" s, write {r[p + '_write_s'].median:.2f} s; {r[p + '_sent'].median:,.0f} levels"
        )

    target = f"≤ {TARGET_SECONDS:g} s"
    return [
        Figure(
            f"levels of a national day, once per commune, district and province ({where}; "
            "in process: `SignalEngine.observe`, then the sink's rows and insert into chDB)",
            result("once"),
            target,
            r["once_total_s"].median <= TARGET_SECONDS,
        ),
        Figure(
            "the same day as the stream computes it: each commune as its report is accepted, "
            f"its district once per {ROLL_UP_BATCH // 2} reports (a full roll-up batch), the "
            "province on the districts' totals; a level is sent when it changed",
            result("stream"),
            target,
            r["stream_total_s"].median <= TARGET_SECONDS,
        ),
    ]
