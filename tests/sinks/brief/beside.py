"""A database of one's own beside the package's warehouse, for tests that write to it.

chDB opens one data directory per process, and the package's warehouse (conftest.py)
stays open until the package ends; a second database in the same directory is free to
change: the replay held back after the brief's hour, then let in as late reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from contract.events import ReportAccepted, SourceRef
from contract.registry import Registry
from contract.settings import Settings
from sinks import rows
from tests.sinks.brief import replay
from warehouse.client import Warehouse

#: The brief's hour with the default delay; the replay has one late report after it (18:06).
BRIEF_AT = datetime(2021, 7, 27, 15, 5, tzinfo=replay.TZ)
REF = SourceRef(topic="reports.accepted", partition=0, offset=0)


@contextmanager
def own_database(
    warehouse: Warehouse, registry: Registry, replayed: replay.Replayed
) -> Iterator[Warehouse]:
    """A fresh database in the package's chDB directory: the replay without ``held_back``."""
    path = warehouse.query_rows("SELECT path FROM system.disks WHERE name = 'default'")[0][0]
    name = f"brief_{uuid.uuid4().hex[:10]}"
    settings = Settings(warehouse="chdb", chdb_path=Path(path), database=name)
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        wh.load_units(registry)
        late = held_back(replayed)
        early = replay.Replayed(
            accepted=[a for a in replayed.accepted if a not in late],
            rejected=replayed.rejected,
            alerts=replayed.alerts,
            levels=replayed.levels,
        )
        replay.write(wh, early)
        try:
            yield wh
        finally:
            wh.command(f"DROP DATABASE IF EXISTS `{name}`")


def held_back(replayed: replay.Replayed) -> list[ReportAccepted]:
    """The day's reports the replay has after 15:05 (one: Phổ Yên's late report at 18:06)."""
    return [
        a for a in replayed.accepted if a.report_date == replay.DAY and a.submitted_at >= BRIEF_AT
    ]


def arrive(wh: Warehouse, reports: list[ReportAccepted]) -> None:
    """Write reports as the sink does when they are accepted."""
    values = [row for e in reports for row in rows.report_value_rows(e)]
    wh.insert("report_values", values, rows.REPORT_VALUES_COLUMNS)
    wh.insert("reports", [rows.report_row(e, REF) for e in reports], rows.REPORTS_COLUMNS)


def after(reports: list[ReportAccepted]) -> datetime:
    """An instant just after the last of ``reports`` was accepted."""
    return max(r.accepted_at for r in reports) + timedelta(minutes=1)
