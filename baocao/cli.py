"""The ``baocao`` command: the group and the commands that run the stack."""

from __future__ import annotations

import logging
import sys
from datetime import date, timedelta
from pathlib import Path

import click

from baocao import context


@click.group()
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    envvar="BAOCAO_LOG_LEVEL",
    help="Python log level (also BAOCAO_LOG_LEVEL; `up` passes it to its children)",
)
def main(log_level: str) -> None:
    """baocao — báo cáo dịch hằng ngày / daily epidemic reporting pipeline."""
    context.setup_logging(log_level)


@main.command()
@click.option(
    "--demo-days",
    default=30,
    show_default=True,
    help="days of simulated history to load at once, ending 2021-07-27 (0: none)",
)
@click.option(
    "--live-speed",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="then simulate the following days live at this many simulated seconds per "
    "second (300: a day in under 5 minutes, so reminders, the 15:00 deadline and its "
    "alerts happen while you watch); 0: no live demo",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("var"),
    show_default=True,
    help="where logs go (the warehouse path is BAOCAO_CHDB_PATH)",
)
def up(demo_days: int, live_speed: float, data_dir: Path) -> None:
    """Run broker, stream worker, warehouse sink and web UI until Ctrl-C."""
    from baocao.runner import up as run_up

    sys.exit(run_up(context.load(), demo_days, data_dir, live_speed))


@main.command()
def worker() -> None:
    """Run one Faust stream worker (start more for more throughput)."""
    from streams import compat, state
    from streams.app import create_app
    from streams.compat.liveness import restart_process

    ctx = context.load()
    try:
        state.claim(ctx.settings)
    except state.StateDirInUse as exc:
        raise click.ClickException(str(exc)) from exc
    app = create_app(ctx.settings, ctx.registry, ctx.catalog, ctx.clock, on_stall=restart_process)
    level = logging.getLevelName(logging.getLogger().level)
    runner = compat.worker(app, ctx.settings, loglevel=level)
    # Faust's start-up spinner sets the root logger to DEBUG for good, so every
    # log.debug on the hot path built a record: about 8% of the worker's CPU (py-spy).
    runner.spinner = None
    runner.execute_from_commandline()


@main.command()
def warehouse() -> None:
    """Run the warehouse service: the sink plus the status API and web UI."""
    from baocao.service import serve

    context.setup_logging("INFO")
    serve(context.load())


@main.command()
@click.option("--days", default=14, show_default=True, help="how many days to simulate")
@click.option(
    "--end",
    "end",
    default="2021-07-27",
    show_default=True,
    help="last simulated day (the demo registry is the 2021-era hierarchy)",
)
@click.option("--seed", default=7, show_default=True)
def demo(days: int, end: str, seed: int) -> None:
    """Publish simulated reports (trusted: they carry their own submitted_at)."""
    from producers.kafka import ReportProducer
    from producers.simulator import simulate

    ctx = context.load()
    last = date.fromisoformat(end)
    span = [last - timedelta(days=n) for n in reversed(range(days))]
    scenario = simulate(ctx.registry, ctx.catalog, span, ctx.settings.tz, seed=seed)
    with ReportProducer(ctx.settings) as producer:
        producer.send(scenario.reports)
    exp = scenario.expected
    click.echo(
        f"demo: sent {len(scenario.reports)} submissions for {span[0]}..{span[-1]} "
        f"({exp.accepted} to accept, {sum(exp.rejected.values())} to reject, "
        f"{exp.duplicates} re-sends)"
    )


def _register() -> None:
    # Commands live in modules by concern; this is the one place that assembles them.
    from baocao import cli_approve, cli_brief, cli_init, cli_ops, cli_reports, cli_surveillance

    for command in (
        *cli_reports.COMMANDS,
        *cli_approve.COMMANDS,
        *cli_ops.COMMANDS,
        *cli_init.COMMANDS,
        *cli_surveillance.COMMANDS,
        *cli_brief.COMMANDS,
    ):
        main.add_command(command)
    from baocao.dhis2.cli import dhis2  # DHIS2 data exchange: export, push, import

    main.add_command(dhis2)
    from baocao.cli_phones import phones_group  # reports by SMS: the numbers that may send

    main.add_command(phones_group)


_register()
