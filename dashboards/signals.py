"""Cảnh báo & cấp độ dịch — surveillance signals and epidemic levels (cấp độ 1–4)."""

from __future__ import annotations

from dataclasses import replace

from contract.levels import LEVEL_NAMES
from dashboards.common import DISTRICT, PROVINCE, TO_DAY, UNITS_IN, as_of, day_filter
from dashboards.model import Band, Bands, Dashboard, Panel

_COLOURS = {1: "#73BF69", 2: "#FADE2A", 3: "#FF9830", 4: "#F2495C"}  # xanh, vàng, cam, đỏ
#: Levels 1–4 in their colours, named as the level alerts name them: every band has a
#: name, so no reader depends on colour alone.
LEVEL_BANDS = Bands(
    column="level",
    values=tuple(Band(str(n), _COLOURS[n], *LEVEL_NAMES[n]) for n in sorted(_COLOURS)),
    missing=Band("", "#C7D0D9", "Chưa đánh giá", "Not assessed"),
)
UNCONFIRMED_VI = "ngưỡng chưa xác nhận từ văn bản"
UNCONFIRMED_EN = "threshold not confirmed from the decision's text"
_KINDS = "indexOf(['province', 'district', 'commune', 'checkpoint'], toString(u.kind))"
# The units the map shows: the province's districts, or the chosen district's communes.
_MAPPED = (
    "province_id = '${province}' AND if('${district}' = '', kind = 'district',"
    " kind = 'commune' AND district_id = '${district}')"
)
# The units the history shows: the province and its districts, or a district and its communes.
_TRACKED = (
    "province_id = '${province}' AND if('${district}' = '', kind IN ('province', 'district'),"
    " district_id = '${district}' AND kind IN ('district', 'commune'))"
)
_ACTIVE = f"active_from <= {TO_DAY} AND (active_to IS NULL OR {TO_DAY} <= active_to)"
# Which assessment of a unit-day counts: on a Sunday the official weekly level before the
# provisional daily one, then the newest (one profile is in force per day).
_RANK = "period = 'week', assessed_at, profile"
# The note as a SQL string literal (the apostrophe doubled).
_NOTE = "'" + f"{UNCONFIRMED_VI} / {UNCONFIRMED_EN}".replace("'", "''") + "'"


def units(where: str) -> str:
    """Return ``unit_id IN (...)`` for the units of ``units_current`` matching ``where``."""
    return f"unit_id IN (SELECT unit_id FROM units_current WHERE {where})"


def newest_levels(unit_filter: str) -> str:
    """Per unit, its newest level on or before the period's end, as a tuple ``x``:
    (level, period, profile, level_date, why_vi, why_en, next_vi, next_en, unconfirmed)."""
    return (
        "SELECT unit_id, argMax((level, period, profile, level_date, why_vi, why_en,"
        f" next_vi, next_en, unconfirmed), (level_date, {_RANK})) AS x"
        f" FROM levels_latest WHERE level_date <= {TO_DAY} AND {unit_filter} GROUP BY unit_id"
    )


def active_signals(unit_filter: str, brief: bool = False) -> str:
    """The period's signals still active (a withdrawn one is gone), with unit names;
    ``brief``: day, unit and message only."""
    codes = "" if brief else " s.rule AS rule, s.metric AS metric, s.severity AS severity,"
    return (
        f"SELECT s.report_date AS report_date, u.name AS unit,{codes}"
        " concat(s.message_vi, ' / ', s.message_en) AS message"
        " FROM (SELECT * FROM signals_current WHERE state = 'active'"
        f" AND {day_filter('report_date')} AND {unit_filter}) AS s"
        " INNER JOIN units_current AS u ON u.unit_id = s.unit_id"
        f" ORDER BY report_date DESC, {_KINDS}, unit, s.signal_id"
    )


def current_levels(unit_filter: str, brief: bool = False) -> str:
    """Each unit's current level with why it is so and what would change it;
    ``brief``: unit, level, day, why and the unconfirmed note only."""
    more = (
        ""
        if brief
        else " if(l.x.2 = 'week', 'tuần (chính thức) / week (official)',"
        " 'hằng ngày (tạm tính) / daily (provisional)') AS period, l.x.3 AS profile,"
    )
    return (
        f"SELECT u.name AS unit, l.x.1 AS level, l.x.4 AS level_date,{more}"
        " concat(l.x.5, ' / ', l.x.6) AS why,"
        + ("" if brief else " concat(l.x.7, ' / ', l.x.8) AS next,")
        + f" if(empty(l.x.9), '', concat({_NOTE}, ': ', arrayStringConcat(l.x.9, ', '))) AS note"
        f" FROM ({newest_levels(unit_filter)}) AS l"
        " INNER JOIN units_current AS u ON u.unit_id = l.unit_id"
        f" ORDER BY {_KINDS}, level DESC, unit"
    )


SIGNALS = Dashboard(
    uid="baocao-signals",
    title_vi="Cảnh báo & cấp độ dịch",
    title_en="Signals & levels",
    variables=(PROVINCE, DISTRICT),
    panels=(
        as_of(
            f"SELECT changed_at AS at FROM signals WHERE {day_filter('report_date')} AND {UNITS_IN}"
            " UNION ALL SELECT assessed_at AS at FROM levels"
            f" WHERE {day_filter('level_date')} AND {UNITS_IN}"
        ),
        Panel(
            key="area_level",
            title_vi="Cấp độ dịch (tỉnh hoặc huyện đang chọn)",
            title_en="Epidemic level (province or the chosen district)",
            kind="stat",
            width=6,
            height=4,
            bands=LEVEL_BANDS,
            sql=(
                f"SELECT argMax(level, (level_date, {_RANK})) AS level FROM levels_latest"
                f" WHERE level_date <= {TO_DAY}"
                " AND unit_id = if('${district}' = '', '${province}', '${district}')"
            ),
        ),
        Panel(
            key="signals_active",
            title_vi="Tín hiệu đang hoạt động (trong kỳ)",
            title_en="Active signals (period)",
            kind="stat",
            width=6,
            height=4,
            sql=(
                "SELECT count() AS signals FROM signals_current WHERE state = 'active'"
                f" AND {day_filter('report_date')} AND {UNITS_IN}"
            ),
        ),
        Panel(
            key="units_high",
            title_vi="Đơn vị ở cấp 3–4 (trên bản đồ)",
            title_en="Units at level 3–4 (on the map)",
            kind="stat",
            width=6,
            height=4,
            sql=(
                "SELECT countIf(x.1 >= 3) AS units_high"
                f" FROM ({newest_levels(units(f'{_MAPPED} AND {_ACTIVE}'))})"
            ),
        ),
        Panel(
            key="level_map",
            title_vi="Bản đồ cấp độ dịch theo huyện / xã",
            title_en="Map of epidemic levels by district / commune",
            kind="map",
            width=14,
            height=12,
            bands=LEVEL_BANDS,
            description_vi="Cấp độ mới nhất đến cuối kỳ; chọn một huyện để xem các xã.",
            description_en="The newest level up to the period's end; choose a district"
            " to see its communes.",
            sql=(
                "SELECT u.name AS name, u.lat AS lat, u.lon AS lon, l.x.1 AS level,"
                " concat(u.name, ' · ', ifNull(toString(l.x.1), '–')) AS label"
                f" FROM units_current AS u LEFT JOIN ({newest_levels(units(_MAPPED))}) AS l"
                f" ON l.unit_id = u.unit_id WHERE {_MAPPED} AND {_ACTIVE}"
                " AND u.lat IS NOT NULL ORDER BY name"
            ),
        ),
        Panel(
            key="signals",
            title_vi="Tín hiệu đang hoạt động và giải thích",
            title_en="Active signals and what they mean",
            kind="table",
            width=10,
            height=12,
            description_vi="Tín hiệu đã rút (số liệu được sửa) không còn hiện.",
            description_en="A withdrawn signal (the figures were corrected) is not shown.",
            sql=active_signals(UNITS_IN),
        ),
        Panel(
            key="levels_now",
            title_vi="Cấp độ hiện tại: lý do và điều kiện thay đổi",
            title_en="Current levels: why, and what would change them",
            kind="table",
            width=24,
            height=10,
            bands=LEVEL_BANDS,
            sql=current_levels(units(_TRACKED)),
        ),
        Panel(
            key="level_history",
            title_vi="Diễn biến cấp độ theo đơn vị và ngày",
            title_en="Level history by unit and day",
            kind="grid",
            width=24,
            height=12,
            bands=replace(LEVEL_BANDS, column="status"),
            sql=(
                "SELECT u.name AS unit, h.level_date AS day, toString(h.level) AS status"
                f" FROM (SELECT unit_id, level_date, argMax(level, ({_RANK})) AS level"
                f" FROM levels_latest WHERE {day_filter('level_date')} AND {units(_TRACKED)}"
                " GROUP BY unit_id, level_date) AS h"
                " INNER JOIN units_current AS u ON u.unit_id = h.unit_id"
                f" ORDER BY {_KINDS}, unit, day"
            ),
        ),
        Panel(
            key="unconfirmed",
            title_vi="Ngưỡng chưa xác nhận từ văn bản",
            title_en="Thresholds not confirmed from the decision's text",
            kind="table",
            width=24,
            height=5,
            description_vi="Cấp độ theo các ngưỡng này là tạm, chờ đối chiếu văn bản gốc.",
            description_en="Levels set by these thresholds are tentative until checked"
            " against the decision's text.",
            sql=(
                "SELECT profile, arrayStringConcat(arraySort(groupUniqArrayArray(unconfirmed)),"
                f" ', ') AS thresholds, {_NOTE} AS note FROM levels_latest"
                f" WHERE {day_filter('level_date')} AND {UNITS_IN}"
                " AND notEmpty(unconfirmed) GROUP BY profile ORDER BY profile"
            ),
        ),
    ),
)
