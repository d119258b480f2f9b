"""The ``baocao`` command: run the stack, submit reports, inspect status and units."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import IO

import click

from baocao import context
from contract.errors import BaocaoError, SubmissionError
from contract.registry import UnitKind

SUBMIT_EXAMPLE = """
\b
Examples / Ví dụ:
  baocao submit --dataset district-daily --unit 173 --date 2021-07-27 \\
      --value cases_new=3 --value cases_community=1 --value tests_pcr=420 \\
      --value tests_pcr_positive=3 --value vaccine_dose1.age_18_49=1200
  baocao submit --file report.json
  baocao submit --csv reports.csv
\b
A CSV has columns dataset,unit_id,report_date[,report_id,note,reason] and one column
per value key; an empty cell means "not reported". Every row is checked before any
is sent. A correction is a new submission for the same unit, dataset and date; after
the deadline it needs --reason.
"""


def _fail_submission(exc: SubmissionError) -> None:
    click.secho("Báo cáo bị từ chối / Report refused:", fg="red", err=True)
    for p in exc.problems:
        # "line 3: values.x" + a message that already names values.x -> show "line 3" only
        head, _, last = p.field.rpartition(": ")
        field = head if last and p.message_en.startswith(last + ":") else p.field
        where = f"[{field}] " if field and not p.message_en.startswith(field + ":") else ""
        click.echo(f"  {where}{p.message_vi}\n  {' ' * len(where)}{p.message_en}", err=True)
    sys.exit(2)


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
    default=14,
    show_default=True,
    help="days of simulated demo reports to load (0: none)",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("var"),
    show_default=True,
    help="where logs go (the warehouse path is BAOCAO_CHDB_PATH)",
)
def up(demo_days: int, data_dir: Path) -> None:
    """Run broker, stream worker, warehouse sink and web UI until Ctrl-C."""
    from baocao.runner import up as run_up

    sys.exit(run_up(context.load(), demo_days, data_dir))


@main.command()
def worker() -> None:
    """Run one Faust stream worker (start more for more throughput)."""
    import faust

    from streams.app import create_app

    ctx = context.load()
    app = create_app(ctx.settings, ctx.registry, ctx.catalog, ctx.clock)
    level = logging.getLevelName(logging.getLogger().level)
    faust.Worker(app, loglevel=level).execute_from_commandline()


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


@main.command(epilog=SUBMIT_EXAMPLE)
@click.option("--dataset", help="dataset code, e.g. district-daily")
@click.option("--unit", "unit_id", help="unit id, e.g. 173 or CP-20-01")
@click.option("--date", "report_date", help="reporting date YYYY-MM-DD")
@click.option("--value", "values", multiple=True, metavar="KEY=N", help="a count, repeatable")
@click.option("--note", default="", help="free-text note")
@click.option("--reason", default="", help="why this corrects an earlier report")
@click.option("--report-id", help="reuse a report_id to re-send safely (idempotent)")
@click.option("--file", "json_file", type=click.File("rb"), help="one report as JSON")
@click.option("--csv", "csv_file", type=click.File("rb"), help="many reports (UTF-8 CSV)")
@click.option("--by", "submitted_by", default=getpass.getuser, help="who submits")
@click.option("--dry-run", is_flag=True, help="check only; send nothing")
def submit(
    dataset: str | None,
    unit_id: str | None,
    report_date: str | None,
    values: tuple[str, ...],
    note: str,
    reason: str,
    report_id: str | None,
    json_file: IO[bytes] | None,
    csv_file: IO[bytes] | None,
    submitted_by: str,
    dry_run: bool,
) -> None:
    """Send one report (flags or --file) or many (--csv) and print receipts."""
    from baocao.submit import reports_from_cli, send_reports

    ctx = context.load()
    try:
        reports = reports_from_cli(
            ctx,
            dataset,
            unit_id,
            report_date,
            values,
            note,
            reason,
            report_id,
            json_file,
            csv_file,
            submitted_by,
        )
        send_reports(ctx, reports, dry_run)
    except SubmissionError as exc:
        _fail_submission(exc)
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def status(as_json: bool) -> None:
    """Show broker reachability, consumer lag, warehouse rows and the last report."""
    from baocao.status import gather

    report = gather(context.load().settings)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "broker": report.broker,
                    "broker_ok": report.broker_ok,
                    "broker_error": report.broker_error,
                    "lag": [
                        {
                            "topic": t.topic,
                            "group": t.group,
                            "end": t.end,
                            "committed": t.committed,
                            "lag": t.lag,
                        }
                        for t in report.lags
                    ],
                    "warehouse": report.warehouse,
                    "warehouse_error": report.warehouse_error,
                },
                default=str,
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        ok = click.style("reachable / kết nối được", fg="green")
        bad = click.style(f"UNREACHABLE / không kết nối được: {report.broker_error}", fg="red")
        click.echo(f"broker {report.broker}: {ok if report.broker_ok else bad}")
        for t in report.lags:
            click.echo(f"  {t.topic:<20} group {t.group:<16} end {t.end:>8}  lag {t.lag}")
        if report.warehouse:
            for table, n in report.warehouse["rows"].items():
                click.echo(f"  warehouse {table:<14} {n:>10} rows")
            click.echo(f"  last report / báo cáo mới nhất: {report.warehouse['last_report']}")
        else:
            click.secho(f"warehouse: {report.warehouse_error}", fg="red")
    sys.exit(0 if report.broker_ok and report.warehouse else 1)


@main.command()
@click.option("--province", help="province code, e.g. 19")
@click.option("--kind", type=click.Choice([k.value for k in UnitKind]))
@click.option("--active-on", help="only units active on YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True)
def units(province: str | None, kind: str | None, active_on: str | None, as_json: bool) -> None:
    """List reporting units from the registry."""
    ctx = context.load()
    try:
        on = date.fromisoformat(active_on) if active_on else None
    except ValueError as exc:
        raise click.BadParameter(
            f"{active_on!r}: use YYYY-MM-DD / dùng dạng YYYY-MM-DD", param_hint="--active-on"
        ) from exc
    found = ctx.registry.filter(province, UnitKind(kind) if kind else None, on)
    if as_json:
        click.echo(json.dumps([u.model_dump(mode="json") for u in found], ensure_ascii=False))
        return
    for u in found:
        datasets = ",".join(u.datasets) or "-"
        click.echo(
            f"{u.unit_id:<10} {u.kind.value:<10} {u.name:<36} parent {u.parent_id or '-':<6}"
            f" {datasets}"
        )
    click.echo(f"{len(found)} units / đơn vị", err=True)


@main.group()
def registry() -> None:
    """Build unit registries from vietnamadminunits."""


@registry.command("build")
@click.option("--province", "provinces", multiple=True, required=True, help="GSO code, repeat")
@click.option("--hierarchy", type=click.Choice(["2021", "2025"]), default="2021", show_default=True)
@click.option("--no-communes", is_flag=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def registry_build(
    provinces: tuple[str, ...], hierarchy: str, no_communes: bool, out: Path
) -> None:
    """Write a registry JSON for the given provinces (use it with BAOCAO_REGISTRY_PATH)."""
    from contract.registry_build import build_registry

    try:
        reg = build_registry(
            list(provinces),
            hierarchy,  # type: ignore[arg-type]
            communes=not no_communes,
        )
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        reg.dump(out)
    except OSError as exc:
        msg = f"cannot write {out}: {exc.strerror} / không ghi được tệp"
        raise click.ClickException(msg) from exc
    click.echo(f"wrote {len(reg)} units to {out}")


@main.command("create-topics")
@click.option("--replication", default=1, show_default=True, help="replication factor")
def create_topics_cmd(replication: int) -> None:
    """Declare every pipeline topic with BAOCAO_PARTITIONS partitions (idempotent)."""
    from baocao.broker import BrokerError, create_topics
    from contract import topics

    settings = context.load().settings
    try:
        create_topics(settings.broker, topics.specs(settings.partitions), replication=replication)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"topics ready: {', '.join(topics.ALL)} ({settings.partitions} partitions)")


@main.command()
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("docs/schemas"), show_default=True
)
@click.option("--check", is_flag=True, help="fail if the files on disk are stale")
def schemas(out: Path, check: bool) -> None:
    """Write the events' JSON Schemas (or check they are current)."""
    from contract.events import json_schemas

    stale = []
    for name, text in json_schemas().items():
        path = out / name
        if check:
            if not path.exists() or path.read_text("utf-8") != text:
                stale.append(str(path))
        else:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        raise click.ClickException(f"stale schemas: {', '.join(stale)}; run `baocao schemas`")


# ---------------------------------------------------------------- dashboards


@main.group("dashboards")
def dashboards_group() -> None:
    """Bảng điều khiển Grafana / Grafana dashboards: generate and publish."""


@dashboards_group.command("generate")
@click.option("--check", is_flag=True, help="fail if the committed JSON is stale")
def dashboards_generate(check: bool) -> None:
    """Write dashboards/*.json and the alert rules from the Python definitions."""
    from dashboards import alerts, grafana

    stale = grafana.write_all(check=check)
    rules = alerts.render()
    if check:
        if not alerts.RULES_PATH.exists() or alerts.RULES_PATH.read_text("utf-8") != rules:
            stale.append(alerts.RULES_PATH)
        if stale:
            names = ", ".join(str(p) for p in stale)
            raise click.ClickException(
                f"tệp đã cũ / stale files: {names}; run `baocao dashboards generate`"
            )
        click.echo("dashboards: up to date / đã cập nhật")
        return
    alerts.RULES_PATH.write_text(rules, encoding="utf-8")
    for path in [*stale, alerts.RULES_PATH]:
        click.echo(f"wrote {path}")


@dashboards_group.command("publish")
@click.option("--grafana-url", required=True, help="e.g. http://127.0.0.1:3000")
@click.option("--token", envvar="BAOCAO_GRAFANA_TOKEN", required=True, help="service-account token")
@click.option("--folder", default="baocao", show_default=True)
@click.option("--dry-run", is_flag=True, help="print what would change; change nothing")
def dashboards_publish(grafana_url: str, token: str, folder: str, dry_run: bool) -> None:
    """Upload every dashboard to Grafana (creates the folder, overwrites changed ones)."""
    from dashboards.publish import connect, publish

    try:
        publish(connect(grafana_url, token), folder=folder, dry_run=dry_run, echo=click.echo)
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc


# ---------------------------------------------------------------- deadlines and alerts


@main.command()
@click.option("--date", "day", required=True, help="reporting date YYYY-MM-DD")
@click.option("--province", help="province code, e.g. 19")
@click.option("--dataset", help="dataset code, e.g. district-daily")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def compliance(day: str, province: str | None, dataset: str | None, as_json: bool) -> None:
    """Who reported on time, late or not at all, and the rates (DHIS2's definitions)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from sinks import compliance as report

    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--date") from exc
    settings = context.load().settings
    query = {"date": when.isoformat(), "province": province, "dataset": dataset}
    url = f"http://{settings.http_host}:{settings.http_port}/api/compliance?" + (
        urllib.parse.urlencode({k: v for k, v in query.items() if v})
    )
    try:  # the running service owns chDB; ask it first
        with urllib.request.urlopen(url, timeout=10) as resp:
            data = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        from sinks.warehouse import Warehouse

        try:
            with Warehouse.connect(settings) as wh:
                wh.ensure_schema()
                data = report.compliance(wh, when, province, dataset)
        except BaocaoError as exc:
            raise click.ClickException(f"kho dữ liệu / warehouse: {exc}") from exc
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(report.render(data))


@main.command()
def notify() -> None:
    """Deliver alerts by webhook, e-mail and log, as routed in settings (until Ctrl-C)."""
    import signal
    import threading

    from sinks.notify.service import Notifier

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Notifier(context.load().settings).run(stop)


# ---------------------------------------------------------------- tokens (submission API)


@main.group("tokens")
def tokens_group() -> None:
    """Mã truy cập của đơn vị / per-unit API tokens: create, list, revoke."""


@tokens_group.command("create")
@click.option("--unit", "unit_id", required=True, help="unit id, e.g. 173, 19 or CP-20-01")
@click.option("--name", default="", help="who holds it (recorded as submitted_by); default: unit")
def tokens_create(unit_id: str, name: str) -> None:
    """Create a token for a unit and print it once (only its hash is stored)."""
    from baocao.tokens import open_tokens, tokens_path

    ctx = context.load()
    unit = ctx.registry.get(unit_id)
    if unit is None:
        raise click.ClickException(
            f"đơn vị {unit_id} không có trong danh mục / unit {unit_id} is not registered"
        )
    store = open_tokens(ctx.settings)
    cred, token = store.create(unit.unit_id, name or f"{unit.unit_id} {unit.name}", ctx.clock.now())
    store.close()
    click.echo(token)
    click.echo(
        f"token {cred.token_id} for {unit.unit_id} ({unit.name}, {unit.kind.value}) in "
        f"{tokens_path(ctx.settings)}; shown once, keep it safe / chỉ hiện một lần, hãy lưu lại.",
        err=True,
    )


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (id, unit, name, created, revoked); secrets are never shown."""
    from baocao.tokens import open_tokens

    store = open_tokens(context.load().settings)
    for c in store.list():
        state = f"revoked {c.revoked_at}" if c.revoked_at else "active"
        click.echo(f"{c.token_id}  unit={c.unit_id}  {c.name!r}  created {c.created_at}  {state}")
    store.close()


@tokens_group.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (from `baocao tokens list`); it stops working at once."""
    from baocao.tokens import open_tokens

    ctx = context.load()
    store = open_tokens(ctx.settings)
    done = store.revoke(token_id, ctx.clock.now())
    store.close()
    if not done:
        raise click.ClickException(
            f"không có mã đang hoạt động {token_id} / no active token {token_id}"
        )
    click.echo(f"revoked / đã thu hồi {token_id}")
