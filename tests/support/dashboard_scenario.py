"""A small province whose dashboard numbers are known by hand (see EXPECTED)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from contract.events import ReportAccepted, ReportRejected, SourceRef, Violation
from contract.registry import Registry, Unit, UnitKind
from sinks import rows
from tests.support import surveillance_rows
from warehouse.client import Warehouse

ICT = timezone(timedelta(hours=7))
DAY1, DAY2, DAY3 = date(2021, 8, 1), date(2021, 8, 2), date(2021, 8, 3)
REF = SourceRef(topic="reports.accepted", partition=0, offset=0)
DD, CD = ["district-daily"], ["checkpoint-daily"]


def registry() -> Registry:
    """Province 19 with two active districts, one closed, a commune and two checkpoints."""

    def unit(uid: str, kind: UnitKind, **kw: object) -> Unit:
        return Unit.model_validate({"unit_id": uid, "name": f"Đơn vị {uid}", "kind": kind, **kw})

    return Registry(
        [
            unit("19", UnitKind.PROVINCE, province_id="19", population=1000),
            unit("20", UnitKind.PROVINCE, province_id="20", population=500),
            unit("D1", UnitKind.DISTRICT, parent_id="19", province_id="19", district_id="D1",
                 lat=21.5, lon=105.9, datasets=DD),
            unit("D2", UnitKind.DISTRICT, parent_id="19", province_id="19", district_id="D2",
                 lat=21.7, lon=105.8, datasets=DD),
            # closed before the period: never expected, never "missing"
            unit("D3", UnitKind.DISTRICT, parent_id="19", province_id="19", district_id="D3",
                 lat=21.6, lon=105.7, datasets=DD, active_to=date(2021, 7, 31)),
            unit("C1", UnitKind.COMMUNE, parent_id="D1", province_id="19", district_id="D1"),
            unit("CP-1", UnitKind.CHECKPOINT, parent_id="D1", province_id="19",
                 district_id="D1", datasets=CD),
            unit("CP-2", UnitKind.CHECKPOINT, parent_id="D2", province_id="19",
                 district_id="D2", datasets=CD),
            unit("E1", UnitKind.DISTRICT, parent_id="20", province_id="20", district_id="E1",
                 lat=21.9, lon=106.7, datasets=DD),
        ]
    )  # fmt: skip


@dataclass
class Filled:
    accepted: list[ReportAccepted] = field(default_factory=list)
    rejected: list[ReportRejected] = field(default_factory=list)


def _accepted(
    unit: str,
    day: date,
    values: dict[str, int],
    hour: int,
    *,
    first_hour: int | None = None,
    revision: int = 1,
    warnings: tuple[str, ...] = (),
    dataset: str = "district-daily",
    reason: str = "",
) -> ReportAccepted:
    at = datetime.combine(day, datetime.min.time(), ICT) + timedelta(hours=hour)
    first = datetime.combine(day, datetime.min.time(), ICT) + timedelta(hours=first_hour or hour)
    deadline = datetime.combine(day, datetime.min.time(), ICT) + timedelta(hours=15)
    return ReportAccepted.model_validate({
        "report_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{unit}/{day}/{revision}/{dataset}"),
        "dataset": dataset, "unit_id": unit, "report_date": day, "submitted_at": at,
        "submitted_by": f"cán bộ {unit}", "values": values, "reason": reason,
        "revision": revision, "timeliness": "on_time" if first < deadline else "late",
        "first_submitted_at": first, "deadline": deadline,
        "accepted_at": at + timedelta(seconds=1),
        "warnings": [Violation(rule_id=w, severity="warning", message_vi="cảnh báo",
                               message_en="warning") for w in warnings],
    })  # fmt: skip


def _rejected(unit: str, rules: list[str], n: int) -> ReportRejected:
    return ReportRejected(
        rejection_id=uuid.uuid5(uuid.NAMESPACE_URL, f"rej/{unit}/{n}"),
        rejected_at=datetime(2021, 8, 2, 3, n, tzinfo=UTC),
        report_id=str(uuid.uuid4()),
        dataset="district-daily",
        unit_id=unit,
        report_date=DAY2.isoformat(),
        errors=[Violation(rule_id=r, severity="error", message_vi="lỗi", message_en="error")
                for r in rules],
    )  # fmt: skip


def events() -> Filled:
    """Accepted and rejected events of the scenario, in arrival order."""
    cases = ("cases_new", "cases_community", "cases_quarantined", "cases_unknown_source")
    tests = ("tests_pcr", "tests_pcr_positive")

    def v(c: tuple[int, int, int, int], t: tuple[int, int], **more: int) -> dict[str, int]:
        return {**dict(zip(cases, c, strict=True)), **dict(zip(tests, t, strict=True)), **more}

    cp = "checkpoint-daily"
    return Filled(
        accepted=[
            _accepted("D1", DAY1, v((5, 2, 3, 0), (100, 5), **{"vaccine_dose2.age_18_49": 100}), 9),
            _accepted("D1", DAY1, v((6, 2, 4, 0), (100, 6), **{"vaccine_dose2.age_18_49": 100}),
                      17, first_hour=9, revision=2, reason="Sửa sau rà soát"),
            _accepted("D1", DAY2, v((1, 0, 1, 0), (50, 1)), 16, warnings=("cases_spike",)),
            _accepted("D2", DAY1, v((3, 0, 3, 0), (80, 3), **{"vaccine_dose2.age_65_plus": 50}), 8),
            _accepted("D2", DAY2, v((0, 0, 0, 0), (60, 0)), 10),
            _accepted("D2", DAY3, v((2, 0, 1, 1), (70, 2)), 11),
            _accepted("E1", DAY1, v((100, 100, 0, 0), (900, 100)), 9),
            _accepted("CP-1", DAY1, {"people_screened": 100, "vehicles_screened": 20,
                                     "tests_antigen": 30, "tests_antigen_positive": 1},
                      9, dataset=cp),
            _accepted("CP-1", DAY2, {"people_screened": 150, "vehicles_screened": 25}, 9,
                      dataset=cp),
            _accepted("CP-2", DAY1, {"people_screened": 200, "vehicles_screened": 40,
                                     "tests_antigen": 60, "tests_antigen_positive": 2},
                      14, dataset=cp),
        ],
        rejected=[
            _rejected("D1", ["pcr_positive_le_tests"], 1),
            _rejected("D2", ["pcr_positive_le_tests", "unknown_metric"], 2),
            _rejected("E1", ["other_province_rule"], 3),
        ],
    )  # fmt: skip


def fill(wh: Warehouse, filled: Filled) -> None:
    """Write the scenario the way the sink does; some rows twice (redeliveries).

    The first three reports' values (D1's report, its correction, its next day) are
    written again in a batch of their own, as a redelivery after a crash would: a
    different block, so the warehouse's insert deduplication does not drop it.
    """
    values = [row for e in filled.accepted for row in rows.report_value_rows(e)]
    wh.insert("report_values", values, rows.REPORT_VALUES_COLUMNS)
    again = [row for e in filled.accepted[:3] for row in rows.report_value_rows(e)]
    wh.insert("report_values", again, rows.REPORT_VALUES_COLUMNS)
    wh.insert("reports", [rows.report_row(e, REF) for e in filled.accepted], rows.REPORTS_COLUMNS)
    rejections = [rows.rejection_row(e) for e in filled.rejected]
    wh.insert("rejections", [*rejections, rejections[0]], rows.REJECTIONS_COLUMNS)
    surveillance_rows.write(wh, *surveillance_rows.scenario())


VARS = {"province": "19", "district": "", "dataset": "district-daily"}
EXPECTED = {
    "cases_total": 12,  # 6 (D1 day 1, corrected) + 1 + 3 + 0 + 2; E1 is another province
    "days_since_community": 2,  # the last community cases were on day 1, the period ends day 3
    "coverage": 15.0,  # (100 + 50) second doses / 1000 people
    "compliance": {"expected": 6, "on_time": 4, "late": 1, "missing": 1, "pending": 0},
    "screened_total": 450,
    "positives_total": 3,
    "rejections_by_rule": {"pcr_positive_le_tests": 2, "unknown_metric": 1},
}
