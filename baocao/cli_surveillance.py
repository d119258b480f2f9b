"""`baocao levels` and `baocao signals`: epidemic levels and active signals from the warehouse."""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from datetime import date
from typing import Any

import click

from baocao import context, warehouse_client
from contract.datasets import Catalog
from contract.errors import BaocaoError
from contract.registry import Registry
from contract.settings import Settings
from dashboards.signals import LEVEL_BANDS, UNCONFIRMED_EN, UNCONFIRMED_VI
from warehouse import surveillance

KINDS = ("province", "district", "commune", "checkpoint")
KIND_TEXT = {
    "province": ("tỉnh", "province"),
    "district": ("huyện", "district"),
    "commune": ("xã", "commune"),
    "checkpoint": ("chốt", "checkpoint"),
}
PERIOD_TEXT = {
    "day": ("tạm tính, hằng ngày", "provisional, daily"),
    "week": ("chính thức, theo tuần", "official, weekly"),
}
RULE_TEXT = {
    "quiet_days": ("ca đầu tiên sau nhiều ngày không có ca", "first cases after quiet days"),
    "unknown_source": ("ca chưa rõ nguồn lây", "cases of unknown source"),
    "ewma": ("tăng bất thường (EWMA)", "unusual rise (EWMA)"),
    "ears_c2": ("tăng bất thường (EARS C2)", "unusual rise (EARS C2)"),
}
_DATE_HELP = "YYYY-MM-DD"


def report_day(text: str) -> date:
    """A --date option's value, or a bilingual error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"ngày không hợp lệ {text!r}, cần {_DATE_HELP} / invalid date {text!r}, need"
            f" {_DATE_HELP}",
            param_hint="--date",
        ) from exc


def check_province(registry: Registry, code: str) -> None:
    """Refuse a --province that is not a province of the registry (vi/en)."""
    unit = registry.get(code)
    if unit is None or unit.kind.value != "province":
        raise click.BadParameter(
            f"không có tỉnh mã {code} trong danh mục / no province {code} in the registry"
            " (`baocao units --kind province`)",
            param_hint="--province",
        )


def _ask(settings: Settings, path: str, query: dict[str, str], direct: Any) -> dict[str, Any]:
    """The warehouse service's answer, or the warehouse's own when no service runs."""
    try:
        data: dict[str, Any] = warehouse_client.ask(
            settings, f"{path}?{urllib.parse.urlencode(query)}", direct
        )
    except BaocaoError as exc:
        raise click.ClickException(f"kho dữ liệu / warehouse: {exc}") from exc
    return data


def _level_name(level: int | None) -> str:
    b = next((b for b in LEVEL_BANDS.values if b.value == str(level)), LEVEL_BANDS.missing)
    return f"{b.name_vi} / {b.name_en}"


def _place(row: dict[str, Any]) -> str:
    vi, en = KIND_TEXT.get(row["kind"], (row["kind"], row["kind"]))
    return f"{row['name']} ({vi} / {en})"


def render_levels(data: dict[str, Any]) -> str:
    """Levels as text: a count per level, then each unit with why and what would change it."""
    province = data["province"]
    head = f"{province['name'] or province['unit_id']} ({province['unit_id']})"
    lines = [f"Cấp độ dịch / epidemic levels — {head}, đến ngày / as of {data['date']}"]
    units = data["units"]
    if not units:
        lines.append("Chưa có cấp độ nào được đánh giá / no level has been assessed yet")
        return "\n".join(lines)
    counts = Counter(u["level"] for u in units)
    lines.append(" · ".join(f"{_level_name(lv)}: {counts[lv]}" for lv in (1, 2, 3, 4, None)))
    for u in units:
        p_vi, p_en = PERIOD_TEXT.get(u["period"], (u["period"], u["period"]))
        lines.append(f"\n{_level_name(u['level'])} — {_place(u)}")
        lines.append(f"    {u['level_date']}, {p_vi} / {p_en}, {u['profile']}")
        lines.append(f"    Lý do / why: {u['why_vi']} / {u['why_en']}")
        if u["next_vi"] or u["next_en"]:
            lines.append(f"    Để đổi cấp / to change: {u['next_vi']} / {u['next_en']}")
        if u["unconfirmed"]:
            names = ", ".join(u["unconfirmed"])
            lines.append(f"    ! {UNCONFIRMED_VI} / {UNCONFIRMED_EN}: {names}")
    return "\n".join(lines)


def render_signals(data: dict[str, Any], catalog: Catalog) -> str:
    """Active signals as text, newest day first, each with its explanation."""
    province = data["province"]
    head = f"{province['name'] or province['unit_id']} ({province['unit_id']})"
    found = data["signals"]
    lines = [
        f"Tín hiệu đang hoạt động / active signals — {head},"
        f" {data['from']} … {data['date']}: {len(found)}"
    ]
    if not found:
        lines.append("Không có tín hiệu nào đang hoạt động / no active signal")
    for s in found:
        rule_vi, rule_en = RULE_TEXT.get(s["rule"], (s["rule"], s["rule"]))
        dataset = catalog.get(s["dataset"])
        metric = dataset.metric(s["metric"]) if dataset else None
        m_vi, m_en = (metric.name_vi, metric.name_en) if metric else (s["metric"], s["metric"])
        lines.append(f"\n{s['report_date']}  {_place(s)}  [{s['severity']}]")
        lines.append(f"    {rule_vi} / {rule_en} — {m_vi} / {m_en}")
        lines.append(f"    {s['message_vi']} / {s['message_en']}")
    return "\n".join(lines)


def _echo(data: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1) if as_json else text)


@click.command()
@click.option("--date", "day", required=True, help="ngày / day, YYYY-MM-DD")
@click.option("--province", required=True, help="mã tỉnh / province code, e.g. 19")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="chỉ loại đơn vị này / only units of this kind (repeatable; default: all)",
)
@click.option("--json", "as_json", is_flag=True, help="dạng máy đọc / machine-readable output")
def levels(day: str, province: str, kinds: tuple[str, ...], as_json: bool) -> None:
    """Cấp độ dịch từng đơn vị / each unit's epidemic level.

    Mỗi đơn vị: cấp độ mới nhất đến hết ngày --date, lý do, điều làm thay đổi cấp độ
    và ngưỡng chưa xác nhận. Each unit's newest level on or before --date, why, what
    would change it, and thresholds not confirmed from the decision's text.
    """
    when = report_day(day)
    ctx = context.load()
    check_province(ctx.registry, province)
    data = _ask(
        ctx.settings,
        "/api/levels",
        {"date": when.isoformat(), "province": province},
        lambda wh: surveillance.levels(wh, when, province),
    )
    if kinds:
        data["units"] = [u for u in data["units"] if u["kind"] in kinds]
    _echo(data, as_json, render_levels(data))


@click.command()
@click.option("--date", "day", required=True, help="ngày cuối / last day, YYYY-MM-DD")
@click.option("--province", required=True, help="mã tỉnh / province code, e.g. 19")
@click.option(
    "--days",
    default=surveillance.DEFAULT_DAYS,
    show_default=True,
    type=click.IntRange(1, surveillance.MAX_DAYS),
    help="số ngày tính đến --date / days up to --date",
)
@click.option("--json", "as_json", is_flag=True, help="dạng máy đọc / machine-readable output")
def signals(day: str, province: str, days: int, as_json: bool) -> None:
    """Tín hiệu giám sát đang hoạt động / active surveillance signals.

    Các tín hiệu của tỉnh trong --days ngày đến --date chưa bị rút, kèm giải thích.
    The province's signals of the --days days up to --date that were not withdrawn,
    with what they mean.
    """
    when = report_day(day)
    ctx = context.load()
    check_province(ctx.registry, province)
    data = _ask(
        ctx.settings,
        "/api/signals",
        {"date": when.isoformat(), "province": province, "days": str(days)},
        lambda wh: surveillance.signals(wh, when, province, days),
    )
    _echo(data, as_json, render_signals(data, ctx.catalog))


COMMANDS = [levels, signals]
