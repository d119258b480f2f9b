"""Read-only answers: a unit's datasets with labels, its revision history and its last days."""

from __future__ import annotations

from datetime import date, timedelta

from contract.registry import Unit
from producers.http.auth import covered_units
from producers.http.desk import Caller, Desk
from producers.http.models import (
    DatasetOut,
    DayOut,
    DayStatus,
    HistoryOut,
    MeOut,
    MetricOut,
    OptionOut,
    RevisionOut,
    UnitDatasetsOut,
    UnitOut,
    ValueChange,
)


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(unit_id=unit.unit_id, name=unit.name, kind=unit.kind.value)


def me(desk: Desk, caller: Caller) -> MeOut:
    units = covered_units(caller.unit, desk.registry)
    return MeOut(
        name=caller.credential.name,
        unit=unit_out(caller.unit),
        units=[unit_out(u) for u in units if u.datasets],
        today=desk.today(),
        now=desk.clock.now(),
    )


def unit_datasets(desk: Desk, unit: Unit) -> UnitDatasetsOut:
    """The forms a unit must fill in, with every label and help text in both languages."""
    today = desk.today()
    out = []
    for code in unit.datasets:
        dataset = desk.catalog.get(code)
        if dataset is None:
            continue
        metrics = []
        for m in dataset.metrics:
            category = desk.catalog.categories.get(m.category) if m.category else None
            options = [
                OptionOut(code=o.code, name_vi=o.name_vi, name_en=o.name_en)
                for o in (category.options if category else [])
            ]
            keys = [f"{m.code}.{o.code}" for o in options] or [m.code]
            metrics.append(
                MetricOut(
                    code=m.code,
                    name_vi=m.name_vi,
                    name_en=m.name_en,
                    help_vi=m.help_vi,
                    help_en=m.help_en,
                    keys=keys,
                    options=options,
                )
            )
        out.append(
            DatasetOut(
                code=dataset.code,
                name_vi=dataset.name_vi,
                name_en=dataset.name_en,
                deadline_today=dataset.deadline_at(today, desk.settings.tz),
                metrics=metrics,
            )
        )
    return UnitDatasetsOut(unit=unit_out(unit), today=today, datasets=out)


def history(desk: Desk, unit: Unit, days: int) -> HistoryOut:
    """Every revision of the last ``days`` days with its changes, and each day's status."""
    today = desk.today()
    since = today - timedelta(days=days - 1)
    revisions = sorted(
        desk.revisions(unit.unit_id, since),
        key=lambda r: (r.dataset, r.report_date, r.revision, r.submitted_at),
    )
    out: list[RevisionOut] = []
    previous: dict[tuple[str, date], dict[str, int]] = {}
    first: dict[tuple[str, date], str] = {}
    for r in revisions:
        key = (r.dataset, r.report_date)
        old = previous.get(key, {})
        changes = [
            ValueChange(key=k, old=old.get(k), new=r.values.get(k))
            for k in sorted(old.keys() | r.values.keys())
            if old.get(k) != r.values.get(k)
        ]
        previous[key] = r.values
        first.setdefault(key, r.timeliness)
        out.append(RevisionOut(**r.model_dump(exclude={"unit_id", "warnings"}), changes=changes))
    out.reverse()  # newest first: what a submitter looks for
    return HistoryOut(unit_id=unit.unit_id, revisions=out, days=_days(desk, unit, since, first))


def _days(desk: Desk, unit: Unit, since: date, first: dict[tuple[str, date], str]) -> list[DayOut]:
    now = desk.clock.now()
    today = desk.today()
    in_flight = desk.outbox.ledger_keys(unit.unit_id)
    days: list[DayOut] = []
    for code in unit.datasets:
        dataset = desk.catalog.get(code)
        if dataset is None:
            continue
        day = today
        while day >= since:
            if unit.is_active(day):
                deadline = dataset.deadline_at(day, desk.settings.tz)
                status: DayStatus
                if (code, day) in first:
                    status = "on_time" if first[(code, day)] == "on_time" else "late"
                elif f"{unit.unit_id}|{code}|{day.isoformat()}" in in_flight:
                    status = "pending"  # on the broker or queued, not yet in the warehouse
                else:
                    status = "pending" if now < deadline else "missing"
                days.append(DayOut(dataset=code, report_date=day, status=status, deadline=deadline))
            day -= timedelta(days=1)
    return days
