"""Rows of the signals and levels tables, from anomaly alerts and level assessments.

Pure functions like ``sinks.rows``; a message that cannot make a valid row raises
``RowError`` and is dead-lettered whole (its `alerts` row is not written either).
"""

from __future__ import annotations

from contract.events import Alert, LevelAssessed
from contract.registry import UnitKind
from sinks.rows import storable_date, storable_instant, to_json
from warehouse.errors import RowError
from warehouse.signal_tables import LEVELS, SIGNALS
from warehouse.table import Row

SIGNALS_COLUMNS = SIGNALS.column_names
LEVELS_COLUMNS = LEVELS.column_names

#: What an anomaly alert's details must name; the state must be one of the table's enum.
SIGNAL_FIELDS = ("signal_id", "rule", "metric", "state", "unit_kind")
SIGNAL_STATES = ("active", "withdrawn")
UNIT_KINDS = frozenset(kind.value for kind in UnitKind)


def signal_row(event: Alert) -> Row:
    """The signals row of an anomaly alert: which signal, and the state this alert sets.

    signals_current groups a signal's alerts by signal_id with its unit and day, so an
    alert whose signal_id does not name its own unit and day, or whose alert_id is not
    the signal's, is refused here rather than split a signal in two.
    """
    details = event.details
    missing = [k for k in SIGNAL_FIELDS if not isinstance(details.get(k), str) or not details[k]]
    if missing:
        raise RowError(f"anomaly alert {event.alert_id}: details lack {', '.join(missing)}")
    sid, state, kind = details["signal_id"], details["state"], details["unit_kind"]
    if state not in SIGNAL_STATES:
        raise RowError(f"anomaly alert {event.alert_id}: state {state!r} is not {SIGNAL_STATES}")
    if kind not in UNIT_KINDS:
        raise RowError(f"anomaly alert {event.alert_id}: unit_kind {kind!r} is unknown")
    if event.alert_id != sid and not event.alert_id.startswith(f"{sid}:"):
        raise RowError(f"alert_id {event.alert_id} is not of signal {sid}")
    day = storable_date(event.report_date, "report_date")
    if f":{event.unit_id}:" not in sid or not sid.endswith(f":{day.isoformat()}"):
        raise RowError(f"signal {sid} does not name unit {event.unit_id} and day {day}")
    return (
        sid,
        event.alert_id,
        details["rule"],
        details["metric"],
        event.dataset,
        event.unit_id,
        kind,
        day,
        state,
        event.severity,
        event.message_vi,
        event.message_en,
        to_json(details),
        storable_instant(event.raised_at, "raised_at"),
    )


def level_row(event: LevelAssessed) -> Row:
    """One assessment of a unit's epidemic level, with why and what would change it."""
    return (
        event.unit_id,
        event.unit_kind,
        storable_date(event.level_date, "level_date"),
        event.period,
        event.profile,
        event.level,
        to_json(event.criteria),
        list(event.unconfirmed),
        event.why_vi,
        event.why_en,
        event.next_vi,
        event.next_en,
        storable_instant(event.assessed_at, "assessed_at"),
    )
