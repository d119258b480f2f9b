"""Signals and levels written to the warehouse as the sink writes them, from contract events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from contract.events import Alert, LevelAssessed
from sinks import signal_rows
from warehouse.client import Warehouse


def _on(day: date) -> datetime:
    """16:00 local (09:00 UTC) on ``day``: after the deadline, when the day is assessed."""
    return datetime.combine(day, time(9), UTC)


def signal(
    unit: str,
    day: date,
    *,
    rule: str = "quiet_days",
    metric: str = "cases_community",
    state: str = "active",
    n: int = 0,
    message: tuple[str, str] = (
        "6 ca cộng đồng đầu tiên sau 38 ngày",
        "first 6 community cases after 38 days",
    ),
    unit_kind: str = "district",
    at: datetime | None = None,
) -> Alert:
    """An anomaly alert: the first raise, or (n > 0) a withdrawal or a re-raise, made
    ``n`` minutes after ``at`` (default: 16:00 local on ``day``)."""
    sid = f"anomaly:{rule}:{unit}:{metric}:{day.isoformat()}"
    aid = sid if n == 0 else f"{sid}:{'withdrawn' if state == 'withdrawn' else 'raised'}:{n}"
    return Alert(
        alert_id=aid, kind="anomaly", severity="warning" if state == "active" else "info",
        dataset="district-daily", unit_id=unit, report_date=day,
        raised_at=(at or _on(day)) + timedelta(minutes=n),
        message_vi=message[0], message_en=message[1],
        details={"signal_id": sid, "rule": rule, "metric": metric, "state": state,
                 "unit_kind": unit_kind, "quiet_days": 38},
    )  # fmt: skip


def level(
    unit: str,
    day: date,
    value: int | None,
    *,
    period: str = "day",
    profile: str = "qd4800",
    unconfirmed: tuple[str, ...] = (),
    unit_kind: str = "district",
    minutes: int = 0,
) -> LevelAssessed:
    """A level assessment with why / next texts that name the level."""
    return LevelAssessed.model_validate({
        "unit_id": unit, "unit_kind": unit_kind, "level_date": day, "period": period,
        "profile": profile, "level": value, "criteria": {"cases_per_100k_7d": 28.4},
        "unconfirmed": list(unconfirmed),
        "why_vi": f"cấp {value}: 28.4 ca/100.000/tuần", "why_en": f"level {value}: 28.4 per 100k",
        "next_vi": "dưới 20 ca/100.000/tuần → cấp 1", "next_en": "below 20 per 100k → level 1",
        "assessed_at": _on(day) + timedelta(minutes=minutes),
    })  # fmt: skip


def write(wh: Warehouse, alerts: list[Alert], levels: list[LevelAssessed]) -> None:
    """Insert the alerts into ``signals`` and the assessments into ``levels``, as the sink does."""
    wh.insert("signals", [signal_rows.signal_row(a) for a in alerts], signal_rows.SIGNALS_COLUMNS)
    wh.insert("levels", [signal_rows.level_row(e) for e in levels], signal_rows.LEVELS_COLUMNS)


def scenario() -> tuple[list[Alert], list[LevelAssessed]]:
    """The dashboard scenario's signals and levels (province 19 unless said; see EXPECTED).

    2021-08-01 is a Sunday: D1's official weekly level (2) outranks its daily one (1).
    D2's unknown-source signal of day 2 was withdrawn; E1 belongs to province 20.
    """
    d1, d2, d3 = (date(2021, 8, n) for n in (1, 2, 3))
    alerts = [
        signal("D1", d3),
        signal("19", d3, unit_kind="province"),
        signal("D2", d2, rule="unknown_source", metric="cases_unknown_source",
               message=("1 ca chưa rõ nguồn lây", "1 case of unknown source")),
        signal("D2", d2, rule="unknown_source", metric="cases_unknown_source",
               state="withdrawn", n=1),
        signal("E1", d3),
    ]  # fmt: skip
    levels = [
        *(level("19", d, v, unit_kind="province") for d, v in ((d1, 1), (d2, 1), (d3, 2))),
        *(level("D1", d, v) for d, v in ((d1, 1), (d2, 2))),
        level("D1", d1, 2, period="week"),
        level("D1", d3, 3, unconfirmed=("vaccination_65_plus",)),
        *(level("D2", d, v) for d, v in ((d1, 1), (d2, 1), (d3, None))),
        level("C1", d3, 2, unit_kind="commune"),
        level("E1", d3, 4),
    ]
    return alerts, levels


#: What the dashboard panels show for the scenario over its three days, province 19.
EXPECTED = {
    "map": {"Đơn vị D1": 3, "Đơn vị D2": None},  # D3 closed before the period
    "area_level": 2,
    "signals_active": 2,  # D1 and the province; D2's was withdrawn, E1 is elsewhere
    "history": {
        "Đơn vị 19": ["1", "1", "2"],
        "Đơn vị D1": ["2", "2", "3"],
        "Đơn vị D2": ["1", "1", None],
    },
}
