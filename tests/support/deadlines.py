"""A tiny registry for deadline tests: a province, three districts and two never expected."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from contract.registry import Registry, Unit, UnitKind

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 7, 27)
DS = "district-daily"


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    """A local instant on the test day."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=TZ)


def district(unit_id: str, name: str, **extra: object) -> Unit:
    fields: dict[str, object] = {
        "unit_id": unit_id,
        "name": name,
        "name_ascii": name,
        "kind": UnitKind.DISTRICT,
        "parent_id": "19",
        "province_id": "19",
        "district_id": unit_id,
        "datasets": [DS],
        **extra,
    }
    return Unit.model_validate(fields)


def small_registry() -> Registry:
    """164 reports on time, 165 late, 166 never (in the scenarios); 167 closed, 168 exempt."""
    return Registry(
        [
            Unit(
                unit_id="19",
                name="Tỉnh Thái Nguyên",
                name_ascii="Thai Nguyen",
                kind=UnitKind.PROVINCE,
                province_id="19",
            ),
            district("164", "Thành phố Thái Nguyên"),
            district("165", "Huyện Định Hóa"),
            district("166", "Huyện Võ Nhai"),
            district("167", "Huyện Cũ", active_to=date(2021, 7, 1)),
            district("168", "Huyện Miễn", datasets=[]),
        ]
    )
