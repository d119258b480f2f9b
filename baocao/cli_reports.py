"""Commands about reports and reference data: submit, status, units, registry, schemas."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date
from pathlib import Path
from typing import IO

import click

from baocao import cli_registry, cli_simulate, context
from contract.errors import BaocaoError, SubmissionError
from contract.registry import UnitKind

SUBMIT_EXAMPLE = """
\b
Examples / Ví dụ:
  baocao submit --dataset district-daily --unit 173 --date 2021-07-27 \\
      --value cases_new=3 --value cases_community=1 --value tests_pcr=420 \\
      --value tests_pcr_positive=3 --value vaccine_dose1.age_18_49=1200 \\
      --reason "Cập nhật sau rà soát" --wait
  baocao submit --file report.json
  baocao submit --csv reports.csv
\b
A CSV has columns dataset,unit_id,report_date[,report_id,note,reason] and one column
per value key; an empty cell means "not reported". Every row is checked before any
is sent. A correction is a new submission for the same unit, dataset and date; after
the deadline it needs --reason. The receipt says the broker has a report; --wait
also prints what the stream decided: accepted (revision, on time or late) or
rejected, with every reason.
"""


def _fail_submission(exc: SubmissionError) -> None:
    click.secho("Báo cáo bị từ chối / Report refused:", fg="red", err=True)
    for p in exc.reasons:
        # "line 3: values.x" + a message that already names values.x -> show "line 3" only
        head, _, last = p.field.rpartition(": ")
        field = head if last and p.message_en.startswith(last + ":") else p.field
        where = f"[{field}] " if field and not p.message_en.startswith(field + ":") else ""
        click.echo(f"  {where}{p.message_vi}\n  {' ' * len(where)}{p.message_en}", err=True)
    sys.exit(2)


@click.command(epilog=SUBMIT_EXAMPLE)
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
@click.option(
    "--wait",
    type=click.FloatRange(min=1),
    is_flag=False,
    flag_value=30.0,
    default=None,
    metavar="[SECONDS]",
    help="then wait for the stream's decisions (default 30 s) and print them; "
    "exit 1 if one was rejected, 3 if one had none in time",
)
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
    wait: float | None,
) -> None:
    """Send one report (flags or --file) or many (--csv) and print receipts."""
    from baocao.submit import SubmitRequest, reports_from_cli, send_reports

    ctx = context.load()
    request = SubmitRequest(
        submitted_by,
        dataset,
        unit_id,
        report_date,
        values,
        note,
        reason,
        report_id,
        json_file,
        csv_file,
    )
    try:
        reports = reports_from_cli(ctx, request)
        code = send_reports(ctx, reports, dry_run, wait)
    except SubmissionError as exc:
        _fail_submission(exc)
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@click.command()
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


@click.command()
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


@click.group()
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


@click.command("create-topics")
@click.option("--replication", default=1, show_default=True, help="replication factor")
def create_topics_cmd(replication: int) -> None:
    """Declare every pipeline topic with BAOCAO_PARTITIONS partitions (idempotent)."""
    from baocao.broker import BrokerError, create_topics
    from contract import topics
    from contract.kafka_security import client_kwargs

    settings = context.load().settings
    try:
        create_topics(
            settings.broker,
            topics.specs(settings.partitions),
            replication=replication,
            client_kwargs=client_kwargs(settings),
        )
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"topics ready: {', '.join(topics.ALL)} ({settings.partitions} partitions)")


@click.command()
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


COMMANDS = [
    submit,
    status,
    units,
    registry,
    create_topics_cmd,
    schemas,
    *cli_simulate.COMMANDS,
    *cli_registry.COMMANDS,
]
