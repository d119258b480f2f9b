"""SQL pieces and variables the four dashboards share."""

from __future__ import annotations

from dashboards.model import Panel, Variable

# Grafana pastes a variable's text into the SQL; the viewer binds '${name}' as a
# parameter instead. Writing every variable inside quotes keeps both readings valid.
UNITS_IN = (
    "unit_id IN (SELECT unit_id FROM units_current WHERE province_id = '${province}'"
    " AND ('${district}' = '' OR district_id = '${district}'))"
)

#: Local hour of the daily deadline (datasets.toml: "15:00" on the reporting date).
DEADLINE_HOUR = 15
TZ = "Asia/Ho_Chi_Minh"
# Local days of the period ends (a server in UTC would otherwise cut days at 07:00).
FROM_DAY = f"toDate($__fromTime, '{TZ}')"
TO_DAY = f"toDate($__toTime, '{TZ}')"


def day_filter(column: str) -> str:
    """Return SQL keeping ``column`` (a Date) within the period's local days, ends included.

    Every day filter goes through here, not through the plugin's ``$__dateFilter``: that
    macro formats the period's ends in the plugin process's zone (UTC in the Grafana
    image), so before 07:00 in Vietnam a range ending now ended "yesterday". Both
    readers pass the ends as instants ($__fromTime, $__toTime); the zone is written here.
    """
    return f"{column} BETWEEN {FROM_DAY} AND {TO_DAY}"


#: A unit as a selector shows it, "Tỉnh Bắc Giang (24)", while its value stays the code:
#: Grafana reads the ``__text`` and ``__value`` columns of a variable's query, and so does
#: the viewer (``dashboards.query.variable_choices``).
_NAMED = "concat(name, ' (', unit_id, ')') AS __text, unit_id AS __value"

PROVINCE = Variable(
    name="province",
    label_vi="Tỉnh",
    label_en="Province",
    query=f"SELECT {_NAMED} FROM units_current WHERE kind = 'province' ORDER BY unit_id",
    default="19",
)
DISTRICT = Variable(
    name="district",
    label_vi="Huyện",
    label_en="District",
    query=(
        f"SELECT {_NAMED} FROM units_current WHERE kind = 'district'"
        " AND province_id = '${province}' ORDER BY unit_id"
    ),
    include_all=True,
)
DATASET = Variable(
    name="dataset",
    label_vi="Biểu mẫu",
    label_en="Dataset",
    query="SELECT DISTINCT arrayJoin(datasets) AS dataset FROM units_current ORDER BY dataset",
    default="district-daily",
)


def as_of(source_sql: str) -> Panel:
    """Return the "data as of" stat over ``source_sql``, which selects a column ``at``."""
    return Panel(
        key="as_of",
        title_vi="Dữ liệu tính đến",
        title_en="Data as of",
        kind="stat",
        width=6,
        height=4,
        unit="string",
        sql=(
            f"SELECT if(count() = 0, '', formatDateTime(max(at), '%Y-%m-%d %H:%i:%S', '{TZ}'))"
            f" AS as_of FROM ({source_sql})"
        ),
    )


def metric_sums(metrics: list[str], value: str = "value") -> str:
    """Return ``sumIf(value, metric = 'm') AS m`` for each metric."""
    return ",\n  ".join(f"sumIf({value}, metric = '{m}') AS {m}" for m in metrics)


def metrics_in(metrics: list[str]) -> str:
    """Return ``metric IN ('a', 'b')``: the latest-values view then reads only those
    metrics' rows (a panel summing 3 of 15 metrics read all 15: 0.64 s for a year)."""
    return "metric IN (" + ", ".join(f"'{m}'" for m in metrics) + ")"
