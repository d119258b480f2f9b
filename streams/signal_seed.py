"""Rebuild the signal tables' changelogs from the warehouse's history (see streams/seed.py).

An emptied embedded broker would otherwise start every unit's series empty: levels would
fall to what the days since the restart say, and quiet runs and baselines would start
over. From the accepted revisions (the ledger's history) each unit's and area's series is
rebuilt as the worker would have kept it, and from the alerts already raised which
signals are active or withdrawn, so nothing is announced twice after the restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from contract import topics
from streams.roll_up import area_total
from streams.seed import Record, partition_for
from streams.series import Rev, Series
from streams.signal_watch import areas_above, is_area, revision_of
from streams.signals import SignalEngine

SERIES_CHANGELOG = f"{topics.STREAMS_APP_ID}-signal_series-changelog"
CONTRIBUTIONS_CHANGELOG = f"{topics.STREAMS_APP_ID}-signal_contributions-changelog"

Day = tuple[str, str, date]  # (subject, dataset, day)


def latest_days(
    engine: SignalEngine, rows: Iterable[dict[str, Any]]
) -> dict[Day, tuple[Rev, dict[str, int]]]:
    """Each unit-day's newest revision, with only the keys the engine keeps."""
    out: dict[Day, tuple[Rev, dict[str, int]]] = {}
    for row in rows:
        dataset = row["dataset"]
        if not engine.keys(dataset):
            continue
        key = (row["unit_id"], dataset, date.fromisoformat(row["report_date"][:10]))
        rev = revision_of(
            int(row["revision"]), datetime.fromisoformat(row["submitted_at"]), row["report_id"]
        )
        if key not in out or out[key][0] < rev:
            values = engine.extract(dataset, json.loads(row["values_json"]))
            out[key] = (rev, values)
    return out


def rebuild(
    engine: SignalEngine, history: Iterable[dict[str, Any]], alerts: Iterable[dict[str, Any]]
) -> tuple[dict[str, Series], dict[str, dict[str, Any]]]:
    """Series per ``subject|dataset`` and children per ``area|dataset|day``, as kept live."""
    units = latest_days(engine, history)
    area_days: dict[Day, dict[str, list[Any]]] = {}
    nearest: dict[str, str | None] = {}

    def parent(subject: str) -> str | None:
        if subject not in nearest:
            nearest[subject] = next(iter(areas_above(engine.registry, subject)), None)
        return nearest[subject]

    days: dict[Day, tuple[Rev, dict[str, int]]] = {}
    for (unit, dataset, day), (rev, values) in units.items():
        if is_area(engine.registry, unit):  # one of its own children (roll_up.evaluate)
            area_days.setdefault((unit, dataset, day), {})[unit] = [rev, values]
            continue
        days[(unit, dataset, day)] = (rev, values)
        if (area := parent(unit)) is not None:
            area_days.setdefault((area, dataset, day), {})[unit] = [rev, values]
    # Areas pass their totals up a level at a time (streams/roll_up.py): the deepest first.
    depth = {a: len(areas_above(engine.registry, a)) for a, _, _ in area_days}
    pending = sorted(area_days, key=lambda k: -depth[k[0]])
    while pending:
        area, dataset, day = pending.pop(0)
        total = area_total(area_days[(area, dataset, day)])
        days[(area, dataset, day)] = ([], total)
        if (up := parent(area)) is not None:
            if (up, dataset, day) not in area_days:
                pending.append((up, dataset, day))
            area_days.setdefault((up, dataset, day), {})[area] = [[], total]
    series: dict[str, Series] = {}
    for (subject, dataset, day), (rev, values) in sorted(days.items(), key=lambda kv: kv[0][2]):
        series.setdefault(f"{subject}|{dataset}", Series()).put(day, rev, values, engine.keep_days)
    _mark_sent(series, alerts)
    for one in series.values():
        if one.days:
            one.trim(engine.keep_days)  # marks older than the window go, as they do live
    for name, one in series.items():
        subject, dataset = name.split("|")
        newest = one.newest
        if newest is not None and engine.levels_for(dataset):
            one.levels[newest.isoformat()] = engine.provisional_level(one, subject, newest)
    contributions = {
        f"{area}|{dataset}|{day.isoformat()}": children
        for (area, dataset, day), children in area_days.items()
        if day in series[f"{area}|{dataset}"].days
    }
    return series, contributions


def _mark_sent(series: dict[str, Series], alerts: Iterable[dict[str, Any]]) -> None:
    """Record each signal's last state and generation, and each level alert, in its series."""
    newest: dict[str, tuple[int, dict[str, Any]]] = {}
    for row in alerts:
        if row["kind"] not in ("anomaly", "level"):
            continue
        details = json.loads(row.get("details") or "{}")
        key = f"{row['unit_id']}|{row['dataset']}"
        if key not in series:
            continue
        if row["kind"] == "level":
            series[key].sent[row["alert_id"]] = {
                "s": "sent",
                "g": 0,
                "d": row["report_date"][:10],
                "k": "level",
            }
            continue
        sid, state = details.get("signal_id"), details.get("state")
        if not sid or state not in ("active", "withdrawn"):
            continue
        generation = int(row["alert_id"].rsplit(":", 1)[1]) if row["alert_id"] != sid else 0
        mark = {
            "s": state,
            "g": generation,
            "d": row["report_date"][:10],
            "k": "anomaly",
            "vi": row.get("message_vi", ""),
            "en": row.get("message_en", ""),
            "key": key,
        }
        if sid not in newest or newest[sid][0] < generation:
            newest[sid] = (generation, mark)
    for sid, (_, mark) in newest.items():
        if mark["s"] == "withdrawn":  # keep the text of what was raised, as the live mark does
            mark["vi"] = mark["vi"].split(": ", 1)[-1]
            mark["en"] = mark["en"].split(": ", 1)[-1]
        series[mark.pop("key")].sent[sid] = mark


def signal_records(
    engine: SignalEngine,
    history: Iterable[dict[str, Any]],
    alerts: Iterable[dict[str, Any]],
    partitions: int,
) -> tuple[list[Record], list[Record]]:
    """Changelog records of ``signal_series`` and ``signal_contributions``."""
    series, contributions = rebuild(engine, history, alerts)

    def record(key: str, value: Any) -> Record:
        # Written live from the subject's own partition: the unit's, or the area's.
        partition = partition_for(key.split("|", 1)[0], partitions)
        return partition, json.dumps(key).encode(), json.dumps(value).encode()

    return (
        [record(k, s.to_json()) for k, s in series.items()],
        [record(k, c) for k, c in contributions.items()],
    )
