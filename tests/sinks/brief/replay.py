"""The Thái Nguyên replay decided and evaluated in-process, written as the sink writes it.

The stream's own pure parts do the work: ``SubmissionProcessor`` decides each
submission (revision, timeliness, rejection), ``SignalEngine`` evaluates each accepted
report's unit and then every area above it, as ``streams.signal_watch`` does with its
two tables. The rows are made by the sink's row functions. No broker, no worker: the
integration test ``tests/integration/test_signals.py`` runs the real stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import Alert, LevelAssessed, ReportAccepted, ReportRejected, SourceRef
from contract.registry import Registry
from contract.settings import Settings
from producers.epidemic import EpidemicModel
from producers.replay import load_scenario
from producers.simulator import simulate
from sinks import rows, signal_rows
from streams.processor import SubmissionProcessor
from streams.signal_watch import areas_above, engine_of
from streams.signals import Outcome
from warehouse.client import Warehouse

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SCENARIO = "thai-nguyen-2021-07-27"
DAY = date(2021, 7, 27)
THAI_NGUYEN, PHU_BINH, TAN_KHANH = "19", "173", "05917"


@dataclass
class Replayed:
    """What the stream decided and raised for the province's submissions."""

    accepted: list[ReportAccepted] = field(default_factory=list)
    rejected: list[ReportRejected] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    levels: list[LevelAssessed] = field(default_factory=list)


def replay(registry: Registry, catalog: Catalog, province: str | None = THAI_NGUYEN) -> Replayed:
    """Decide and evaluate the scenario's submissions (one province's, or all) in order."""
    scenario = load_scenario(SCENARIO)
    model = EpidemicModel(registry, catalog, scenario.seed, scenario.overrides(registry))
    plan = simulate(registry, catalog, scenario.days(), TZ, scenario.seed, model=model)
    units = {u.unit_id for u in registry if province is None or u.province_id == province}
    clock = ManualClock(datetime(2021, 6, 18, tzinfo=TZ))
    processor = SubmissionProcessor(registry, catalog, TZ, clock, 65_536)
    engine = engine_of(Settings(), registry, catalog)
    ledger: dict[str, object] = {}
    series: dict[str, dict[str, object]] = {}
    children: dict[str, dict[str, tuple[list[object], dict[str, int]]]] = {}
    out = Replayed()

    def settle(key: str, outcome: Outcome | None) -> None:
        if outcome is not None:
            out.alerts += outcome.alerts
            out.levels += outcome.levels
            series[key] = outcome.series.to_json()

    for n, submitted in enumerate(r for r in plan.reports if r.unit_id in units):
        clock.set(submitted.submitted_at + timedelta(seconds=1))  # the worker's clock
        source = SourceRef(topic="reports.submitted", partition=0, offset=n)
        decided = processor.process(
            submitted.unit_id.encode(), submitted.to_json(), source, ledger.get, ledger.__setitem__
        )
        if decided is None:
            continue
        if isinstance(decided.event, ReportRejected):
            out.rejected.append(decided.event)
            continue
        report = decided.event
        out.accepted.append(report)
        if not engine.keys(report.dataset):
            continue
        values = engine.extract(report.dataset, report.values)
        rev: list[object] = [
            report.revision,
            report.submitted_at.isoformat(),
            str(report.report_id),
        ]
        key = f"{report.unit_id}|{report.dataset}"
        now, day = clock.now(), report.report_date
        outcome = engine.observe(
            series.get(key),
            report.unit_id,
            report.dataset,
            day,
            rev,
            values,
            now,  # type: ignore[arg-type]
        )
        if outcome is None:
            continue
        settle(key, outcome)
        for area in areas_above(registry, report.unit_id):  # roll_up, as the worker's agent
            kids = children.setdefault(f"{area}|{report.dataset}|{day}", {})
            old = kids.get(report.unit_id)
            if old is not None and rev < old[0]:  # type: ignore[operator]
                continue
            kids[report.unit_id] = (rev, values)
            total: dict[str, int] = {}
            for _, kept in kids.values():
                for k, v in kept.items():
                    total[k] = total.get(k, 0) + v
            akey = f"{area}|{report.dataset}"
            settle(
                akey, engine.observe(series.get(akey), area, report.dataset, day, [], total, now)
            )
    return out


def write(wh: Warehouse, replayed: Replayed) -> None:
    """Insert every row the sink would write for the replay."""
    ref = SourceRef(topic="reports.accepted", partition=0, offset=0)
    values = [row for e in replayed.accepted for row in rows.report_value_rows(e)]
    wh.insert("report_values", values, rows.REPORT_VALUES_COLUMNS)
    wh.insert("reports", [rows.report_row(e, ref) for e in replayed.accepted], rows.REPORTS_COLUMNS)
    wh.insert("rejections", [rows.rejection_row(e) for e in replayed.rejected],
              rows.REJECTIONS_COLUMNS)  # fmt: skip
    wh.insert("alerts", [rows.alert_row(a) for a in replayed.alerts], rows.ALERTS_COLUMNS)
    anomalies = [signal_rows.signal_row(a) for a in replayed.alerts if a.kind == "anomaly"]
    wh.insert("signals", anomalies, signal_rows.SIGNALS_COLUMNS)
    wh.insert("levels", [signal_rows.level_row(e) for e in replayed.levels],
              signal_rows.LEVELS_COLUMNS)  # fmt: skip
