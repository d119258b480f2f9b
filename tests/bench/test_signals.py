"""The signals benchmark's own logic: its reports, its in-process replay, its records."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from bench.common import TZ, Runs
from bench.record import Figure, write_results
from bench.signal_cost import chronological
from bench.signal_cost_rows import figures as cost_figures
from bench.signal_latency import check_signals, signal_of, unknown_source_reports
from bench.signal_levels import area_sums, populations, registry
from bench.signal_replay import Replay
from contract import topics
from contract.clock import SystemClock
from contract.datasets import Catalog
from contract.events import ReportSubmitted, SourceRef
from contract.registry import Registry, UnitKind
from contract.settings import Settings
from producers.epidemic import EpidemicModel
from streams.processor import Stored, SubmissionProcessor
from streams.signal_watch import engine_of

DAY = date(2021, 7, 1)
DISTRICT = "173"  # Phú Bình, in province 19


def decided_topics(reports: list[ReportSubmitted]) -> Counter[str]:
    processor = SubmissionProcessor(Registry.load(), Catalog.load(), TZ, SystemClock(), 65536)
    ledger: dict[str, Stored] = {}
    out: Counter[str] = Counter()
    for offset, report in enumerate(reports):
        ref = SourceRef(topic=topics.SUBMITTED, partition=0, offset=offset)
        decision = processor.process(
            report.unit_id.encode(), report.to_json(), ref, ledger.get, ledger.__setitem__
        )
        assert decision is not None
        out[decision.topic] += 1
    return out


def replay() -> Replay:
    registry = Registry.load()
    return Replay(engine_of(Settings(), registry, Catalog.load()))


def test_latency_reports_are_accepted_and_each_raises_exactly_its_own_signal() -> None:
    reports = unknown_source_reports(120)
    assert decided_topics(reports) == {topics.ACCEPTED: 120}  # a rejection has no signal
    days = [r.report_date for r in reports]
    assert days == sorted(days) and len({(r.unit_id, r.report_date) for r in reports}) == 120
    raised = check_signals(reports)  # raises if a report gives any other signal of its unit
    assert {signal_of(r) for r in reports} <= raised
    # The rest are the provinces' roll-ups: one per province and day, not per report.
    rest = raised - {signal_of(r) for r in reports}
    assert rest and all(sid.split(":")[2] in {"19", "24", "20", "12", "30"} for sid in rest)


def test_cost_reports_come_in_day_order_without_resends() -> None:
    reports = chronological(400)
    assert len(reports) == 400
    assert [r.submitted_at for r in reports] == sorted(r.submitted_at for r in reports)
    assert len({r.report_id for r in reports}) == 400
    assert reports[0].report_date == date(2021, 6, 1)


def test_a_units_report_re_evaluates_the_unit_then_its_province() -> None:
    r = replay()
    rev = [1, "2021-07-01T10:00:00+07:00", "r1"]
    values = {"cases_new": 2, "cases_community": 1, "cases_unknown_source": 1}
    outcomes = r.report(DISTRICT, "district-daily", DAY, rev, values)
    assert [sorted({a.unit_id for a in o.alerts}) for o in outcomes] == [[DISTRICT], ["19"]]
    assert set(r.series) == {f"{DISTRICT}|district-daily", "19|district-daily"}
    assert r.report(DISTRICT, "district-daily", DAY, [0, "", ""], values) == []  # stale


def test_every_commune_gets_a_population_and_areas_sum_their_communes() -> None:
    reg = registry("small")
    pops = populations(reg, EpidemicModel(reg, Catalog.load(), 1))
    communes = reg.filter(kind=UnitKind.COMMUNE)
    assert set(pops) == {u.unit_id for u in communes}
    assert all(sum(p.by_age.values()) == p.total for p in pops.values())
    r = Replay(engine_of(Settings(), reg, Catalog.load()))
    one, two = (
        communes[0],
        next(
            c
            for c in communes
            if c.district_id == communes[0].district_id and c.unit_id != communes[0].unit_id
        ),
    )
    sums = area_sums(r, {one.unit_id: {"cases_new": 2}, two.unit_id: {"cases_new": 5}})
    assert sums == {one.district_id: {"cases_new": 7}, one.province_id: {"cases_new": 7}}


def test_results_are_written_with_their_figures_and_raw_runs(tmp_path: Path) -> None:
    figures = [Figure("p95", "2.5 s", "≤ 2 s", False), Figure("rate", "900/s", "", None)]
    assert figures[0].row() == ("p95", "2.5 s (target ≤ 2 s: **not met**)")
    assert figures[1].row() == ("rate", "900/s")
    started = datetime(2026, 12, 7, 1, 2, tzinfo=TZ)
    path = write_results(
        "signals", "full", 3, started, {"latency": [{"p95": 2.5}]}, figures, tmp_path
    )
    assert path.name == "signals-full-20261207-0102.json"
    data = json.loads(path.read_text())
    assert data["runs"] == {"latency": [{"p95": 2.5}]}
    assert data["figures"][0] == {
        "figure": "p95",
        "result": "2.5 s",
        "target": "≤ 2 s",
        "met": False,
    }
    assert data["machine"]["cores"] >= 1


def test_a_drain_that_did_not_finish_is_reported_not_averaged() -> None:
    raw = [{"on_failed": 1.0, "on_decided": 4653.0, "on_restarts": 6.0, "off_rate": 840.0}]
    r = {"runs": Runs((1.0,)), "done_runs": Runs((0.0,))}
    rows = cost_figures(r, "full", raw)
    assert rows[0] == Figure(
        "worker CPU per report, signals off → on", "not measured", "≤ +10%", False
    )
    assert rows[1].result == "run 1, signals on: 4,653 of 5,000 decisions, 6 watchdog restarts"
