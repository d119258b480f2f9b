"""After an emptied broker, the signal series rebuilt from the warehouse match the live ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contract.datasets import Catalog
from contract.events import Alert
from contract.levels import LevelProfiles
from contract.population import load_population
from contract.registry import Registry
from contract.signal_config import SignalConfig
from streams.seed import partition_for
from streams.signal_seed import rebuild, signal_records
from streams.signal_watch import areas_above, is_area, revision_of
from streams.signals import SignalEngine

DS = "district-daily"
NOW = datetime(2021, 8, 1, tzinfo=UTC)


def engine() -> SignalEngine:
    registry, catalog = Registry.load(), Catalog.load()
    return SignalEngine(
        SignalConfig.load(catalog=catalog),
        LevelProfiles.load(),
        load_population(registry),
        registry,
        catalog,
    )


class Live:
    """What the worker keeps and sends, units and their areas, a report at a time."""

    def __init__(self, engine: SignalEngine) -> None:
        self.engine = engine
        self.tables: dict[str, Any] = {}
        self.children: dict[str, dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self.alerts: list[Alert] = []

    def report(self, unit: str, day: date, revision: int, values: dict[str, int]) -> None:
        at = datetime(day.year, day.month, day.day, 8, revision, tzinfo=UTC)
        rid = f"00000000-0000-0000-0000-{abs(hash((unit, day, revision))) % 10**12:012d}"
        self.history.append(
            {
                "dataset": DS,
                "unit_id": unit,
                "report_date": day.isoformat(),
                "report_id": rid,
                "revision": revision,
                "submitted_at": at.isoformat(),
                "values_json": json.dumps(values),
            }
        )
        rev = revision_of(revision, at, rid)
        kept = self.engine.extract(DS, values)
        registry = self.engine.registry
        # Each area holds its nearest children's days; a district's or province's own
        # report is one of its own children (streams.roll_up.evaluate).
        if is_area(registry, unit):
            child, rev, kept = unit, [], self._roll(unit, unit, day, rev, kept)
        else:
            child = unit
            self._observe(unit, day, rev, kept)
        for area in areas_above(registry, unit):
            child, rev, kept = area, [], self._roll(area, child, day, rev, kept)

    def _roll(
        self, area: str, child: str, day: date, rev: list[Any], values: dict[str, int]
    ) -> dict[str, int]:
        children = self.children.setdefault(f"{area}|{DS}|{day}", {})
        children[child] = [rev, values]
        total: dict[str, int] = {}
        for _, v in children.values():
            for k, n in v.items():
                total[k] = total.get(k, 0) + n
        self._observe(area, day, [], total)
        return total

    def _observe(self, subject: str, day: date, rev: list[Any], values: dict[str, int]) -> None:
        key = f"{subject}|{DS}"
        out = self.engine.observe(self.tables.get(key), subject, DS, day, rev, values, NOW)
        if out is not None:
            self.tables[key] = out.series.to_json()
            self.alerts += out.alerts

    def alert_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "alert_id": a.alert_id,
                "kind": a.kind,
                "dataset": a.dataset,
                "unit_id": a.unit_id,
                "report_date": a.report_date.isoformat(),
                "details": json.dumps(a.details),
                "message_vi": a.message_vi if a.kind == "anomaly" else "",
                "message_en": a.message_en if a.kind == "anomaly" else "",
            }
            for a in self.alerts
        ]


def fill(live: Live) -> None:
    start = date(2021, 6, 1)
    for n in range(80):  # longer than the kept window: old days fold into totals
        day = start + timedelta(days=n)
        for unit in ("173", "164"):
            cases = 3 if (n == 5 or n == 40) and unit == "173" else 0
            live.report(
                unit,
                day,
                1,
                {"cases_new": cases, "cases_community": cases, "vaccine_dose1.age_18_49": 10 + n},
            )
    live.report("173", start + timedelta(days=40), 2, {"cases_new": 0, "cases_community": 0})


def test_the_rebuilt_series_and_marks_equal_what_the_worker_kept() -> None:
    live = Live(engine())
    fill(live)
    kinds = {a.details.get("state") for a in live.alerts if a.kind == "anomaly"}
    assert kinds == {"active", "withdrawn"}  # the history has a raise and a withdrawal
    series, contributions = rebuild(engine(), live.history, live.alert_rows())
    assert set(series) == set(live.tables)
    for key, kept in series.items():
        built, was = kept.to_json(), dict(live.tables[key])
        newest = max(was["d"])
        assert built["l"] == {newest: was["l"][newest]}  # only the newest day's level
        built.pop("l"), was.pop("l")
        # What was last sent per day is not rebuilt: after a restart a re-assessed day is
        # sent once more, and the warehouse keeps one row per unit, day and period.
        assert built.pop("a") == {} and was.pop("a")
        assert built == was, key
    area_days = {k for k in live.children if k.split("|")[2] in live.tables["19|" + DS]["d"]}
    assert set(contributions) == area_days


def test_a_report_after_the_restart_raises_nothing_already_sent() -> None:
    live = Live(engine())
    fill(live)
    sent = {a.alert_id for a in live.alerts}
    seeded = Live(engine())
    series, _ = rebuild(engine(), live.history, live.alert_rows())
    seeded.tables = {k: s.to_json() for k, s in series.items()}
    last = date(2021, 6, 1) + timedelta(days=79)
    seeded.report(
        "173", last, 2, {"cases_new": 0, "cases_community": 0, "vaccine_dose1.age_18_49": 89}
    )
    assert not {a.alert_id for a in seeded.alerts} & sent


def test_records_land_in_the_partition_of_the_unit_or_area_that_writes_them() -> None:
    live = Live(engine())
    live.report("173", date(2021, 7, 1), 1, {"cases_new": 1, "cases_community": 1})
    series, children = signal_records(engine(), live.history, [], 4)
    keys = {json.loads(k): p for p, k, _ in series}
    assert keys == {"173|" + DS: partition_for("173", 4), "19|" + DS: partition_for("19", 4)}
    # A district's own report is one of its own children, so it has contributions too.
    assert {json.loads(k): p for p, k, _ in children} == {
        f"173|{DS}|2021-07-01": partition_for("173", 4),
        f"19|{DS}|2021-07-01": partition_for("19", 4),
    }
