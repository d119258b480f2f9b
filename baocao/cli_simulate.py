"""``baocao simulate``: plausible reports for a registry and a date range, or a replay."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from baocao import context
from baocao.context import Context
from contract.errors import BaocaoError
from contract.events import ReportSubmitted
from contract.registry import Registry
from contract.settings import Settings

if TYPE_CHECKING:  # imported when the command runs: `baocao --help` stays quick
    from producers.simulator import Scenario

SIMULATE_EXAMPLES = """
\b
Examples / Ví dụ:
  baocao simulate --dry-run                          # plan 14 days, send nothing
  baocao simulate --days 7 --end 2021-07-27 --out week.jsonl
  baocao simulate --scenario thai-nguyen-2021-07-27  # replay a directive, publish
  baocao simulate --scenario lang-son-2020-08 --out lang-son.jsonl
  BAOCAO_REGISTRY_PATH=var/registry-national.json baocao simulate --days 2 --dry-run
  BAOCAO_CLOCK_FILE=var/clock baocao simulate --days 2 --speed 3600
\b
--speed N plays N simulated seconds per real second (3600: a day in 24 s): it moves
the clock in BAOCAO_CLOCK_FILE and publishes each report when that clock reaches it.
Run the worker with the same BAOCAO_CLOCK_FILE, and reminders, missing alerts at the
deadline and late reports happen while you watch. Without --speed every report is
published at once. Scenarios shipped: thai-nguyen-2021-07-27, lang-son-2020-08.
"""

SHARE = click.FloatRange(0, 1)
BATCH = 5_000  # reports per publish call: the progress bar moves, memory stays flat


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: dùng / use YYYY-MM-DD", param_hint=option) from exc


def _span(
    start: str | None, end: str | None, days: int | None, fallback: list[date] | None
) -> list[date]:
    """The days asked for; a scenario's own days when none are given."""
    if start is None and end is None and days is None and fallback:
        return fallback
    last = _day(end, "--end") if end else date(2021, 7, 27)
    if start is not None:
        if days is not None:
            raise click.UsageError("--start hoặc --days, không dùng cả hai / not both")
        first = _day(start, "--start")
        if first > last:
            raise click.UsageError(f"--start {first} sau / is after --end {last}")
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [last - timedelta(days=n) for n in reversed(range(days or 14))]


def _only(registry: Registry, provinces: Sequence[str]) -> Registry:
    if not provinces:
        return registry
    known = {u.province_id for u in registry}
    unknown = sorted(set(provinces) - known)
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}: không có trong danh mục / not in the registry "
            f"(có / known: {', '.join(sorted(known))})",
            param_hint="--province",
        )
    # A unit's ancestors share its province, so the subset keeps every parent.
    units = [u for u in registry if u.province_id in provinces]
    return Registry(units, hierarchy=registry.hierarchy, source=registry.source)


@contextmanager
def _bar(length: int, label: str) -> Iterator[Callable[[int, str], None]]:
    """A progress bar on stderr, shown only to a person watching a terminal."""
    stderr = click.get_text_stream("stderr")
    with click.progressbar(
        length=max(1, length),
        label=label,
        file=stderr,
        hidden=not stderr.isatty(),
        item_show_func=lambda item: item,
    ) as bar:
        yield lambda n, item: bar.update(n, item)


def _write_jsonl(reports: Sequence[ReportSubmitted], out: Path) -> None:
    lines = b"".join(report.to_json() + b"\n" for report in reports)
    if str(out) == "-":
        click.get_binary_stream("stdout").write(lines)
    else:
        out.write_bytes(lines)


def _publish_all(reports: Sequence[ReportSubmitted], settings: Settings) -> None:
    from producers.kafka import ReportProducer

    with ReportProducer(settings) as producer, _bar(len(reports), "gửi / sending") as tick:
        for n in range(0, len(reports), BATCH):
            batch = reports[n : n + BATCH]
            producer.send(batch)
            tick(len(batch), "")


def _publish_paced(ctx: Context, plan: Scenario, days: list[date], speed: float) -> int:
    from contract.clock import FileClock
    from producers.kafka import ReportProducer
    from producers.pacing import Playback, SpeedMap, play, window

    if ctx.settings.clock_file is None:
        raise click.UsageError(
            "--speed cần BAOCAO_CLOCK_FILE (tệp đồng hồ dùng chung với worker) / "
            "--speed needs BAOCAO_CLOCK_FILE, the clock file the worker follows too"
        )
    clock = FileClock(ctx.settings.clock_file)
    tz = ctx.settings.tz
    deadlines = [ds.deadline_at(d, tz) for d in days for ds in ctx.catalog.datasets]
    start, end = window(plan.reports, days, deadlines, tz)
    total = int((end - start).total_seconds())
    seen = [0]

    with ReportProducer(ctx.settings) as producer, _bar(total, "mô phỏng / simulating") as tick:

        def on_tick(now: datetime, sent: int) -> None:
            elapsed = int((now - start).total_seconds())
            label = f"{now.astimezone(tz):%Y-%m-%d %H:%M} · {sent} sent"
            tick(elapsed - seen[0], label)
            seen[0] = elapsed

        return play(
            Playback(
                reports=plan.reports,
                speed_map=SpeedMap(start, time.monotonic(), speed),
                end=end,
                set_clock=clock.set,
                publish=producer.send,
                monotonic=time.monotonic,
                sleep=time.sleep,
                on_tick=on_tick,
            )
        )


@click.command(epilog=SIMULATE_EXAMPLES)
@click.option("--days", type=click.IntRange(1, 3660), help="how many days, ending on --end [14]")
@click.option("--end", help="last day, YYYY-MM-DD [2021-07-27]")
@click.option("--start", help="first day, YYYY-MM-DD (instead of --days)")
@click.option("--scenario", help="shipped scenario id or a .toml/.json file; sets the days")
@click.option("--province", "provinces", multiple=True, help="only this province's units (repeat)")
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="registry JSON [BAOCAO_REGISTRY_PATH or the demo]; the worker must use the same",
)
@click.option("--seed", type=int, help="same seed, same reports and report_ids [7 or scenario's]")
@click.option(
    "--late",
    type=SHARE,
    default=0.15,
    show_default=True,
    help="share of reports sent after the deadline",
)
@click.option(
    "--missing",
    type=SHARE,
    default=0.05,
    show_default=True,
    help="share of unit-days never reported",
)
@click.option(
    "--invalid",
    type=SHARE,
    default=0.06,
    show_default=True,
    help="share preceded by an invalid (rejected) report",
)
@click.option(
    "--corrected",
    type=SHARE,
    default=0.12,
    show_default=True,
    help="share corrected later (a new revision)",
)
@click.option(
    "--resent",
    type=SHARE,
    default=0.06,
    show_default=True,
    help="share re-sent with the same report_id",
)
@click.option("--speed", type=click.FloatRange(min=1), help="simulated seconds per real second")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="write reports as JSON lines ('-': stdout); send nothing",
)
@click.option("--dry-run", is_flag=True, help="plan and summarise only; send nothing")
def simulate(
    days: int | None,
    end: str | None,
    start: str | None,
    scenario: str | None,
    provinces: tuple[str, ...],
    registry_path: Path | None,
    seed: int | None,
    late: float,
    missing: float,
    invalid: float,
    corrected: float,
    resent: float,
    speed: float | None,
    out: Path | None,
    dry_run: bool,
) -> None:
    """Simulate daily reports (late, missing, invalid, corrected ones too) and publish them."""
    from producers.epidemic import EpidemicModel
    from producers.replay import load_scenario
    from producers.simulator import simulate as plan_days

    if speed is not None and (dry_run or out is not None):
        raise click.UsageError(
            "--speed gửi báo cáo theo thời gian mô phỏng, không dùng với --dry-run/--out / "
            "--speed publishes as simulated time passes: not with --dry-run or --out"
        )
    ctx = context.load()
    try:
        registry = _only(Registry.load(registry_path) if registry_path else ctx.registry, provinces)
        replay = load_scenario(scenario) if scenario else None
        span = _span(start, end, days, replay.days() if replay else None)
        seed = seed if seed is not None else (replay.seed if replay else 7)
        overrides = replay.overrides(registry) if replay else None
        model = EpidemicModel(registry, ctx.catalog, seed, overrides)
        with _bar(len(span), "lập kế hoạch / planning") as tick:
            plan = plan_days(
                registry,
                ctx.catalog,
                span,
                ctx.settings.tz,
                seed,
                late_share=late,
                missing_share=missing,
                correction_share=corrected,
                duplicate_share=resent,
                invalid_share=invalid,
                model=model,
                on_day=lambda d: tick(1, d.isoformat()),
            )
        if out is not None:
            _write_jsonl(plan.reports, out)
        elif speed is not None:
            _publish_paced(ctx, plan, span, speed)
        elif not dry_run:
            _publish_all(plan.reports, ctx.settings)
    except (BaocaoError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    exp = plan.expected
    if not plan.reports:
        era = registry.hierarchy == "2025"
        hint = "; a 2025 registry needs --end 2025-07-01 or later" if era else ""
        click.secho(
            f"không đơn vị nào phải báo cáo trong {span[0]}..{span[-1]} / no unit of this "
            f"registry ({registry.hierarchy}) reports on these days{hint}",
            fg="yellow",
            err=True,
        )
    title = f"{replay.title_vi}\n{replay.title_en}\n" if replay else ""
    click.echo(
        f"{title}simulate: {len(plan.reports)} submissions / báo cáo, {span[0]}..{span[-1]}, "
        f"seed {seed}: {exp.accepted} to accept / sẽ nhận, {sum(exp.rejected.values())} to "
        f"reject / sẽ từ chối, {exp.duplicates} re-sends / gửi lại"
        + ("" if out is not None or dry_run else " — sent / đã gửi"),
        err=out is not None and str(out) == "-",
    )


COMMANDS = [simulate]
