"""Commands for operators: dashboards, compliance, alert delivery, API tokens, doctor."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from baocao import context
from contract.errors import BaocaoError

# ---------------------------------------------------------------- dashboards


@click.group("dashboards")
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


@click.command()
@click.option("--date", "day", required=True, help="reporting date YYYY-MM-DD")
@click.option("--province", help="province code, e.g. 19")
@click.option("--dataset", help="dataset code, e.g. district-daily")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def compliance(day: str, province: str | None, dataset: str | None, as_json: bool) -> None:
    """Who reported on time, late or not at all, and the rates (DHIS2's definitions)."""
    import urllib.parse

    from baocao import warehouse_client
    from warehouse import compliance as report

    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--date") from exc
    settings = context.load().settings
    query = {"date": when.isoformat(), "province": province, "dataset": dataset}
    path = "/api/compliance?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
    try:
        data = warehouse_client.ask(
            settings, path, lambda wh: report.compliance(wh, when, province, dataset)
        )
    except BaocaoError as exc:
        raise click.ClickException(f"kho dữ liệu / warehouse: {exc}") from exc
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(report.render(data))


@click.command()
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


@click.group("tokens")
def tokens_group() -> None:
    """Mã truy cập của đơn vị / per-unit API tokens: create, list, revoke."""


@tokens_group.command("create")
@click.option("--unit", "unit_id", required=True, help="unit id, e.g. 173, 19 or CP-20-01")
@click.option("--name", default="", help="who holds it (recorded as submitted_by); default: unit")
@click.option(
    "--role",
    "roles",
    type=click.Choice(["submit", "read", "approve"]),
    multiple=True,
    default=("submit",),
    show_default=True,
    help="submit: the API and form; read: the viewer, briefs and histories of the unit and "
    "the units below it; approve: review (approve, accept, return) the reports of the "
    "units below it (`baocao approve`). read and approve: provinces and districts only. "
    "Repeat for several.",
)
def tokens_create(unit_id: str, name: str, roles: tuple[str, ...]) -> None:
    """Create a token for a unit and print it once (only its hash is stored)."""
    from baocao.access import readable_unit
    from baocao.tokens import open_tokens, tokens_path
    from contract.approval_rules import is_reviewer
    from producers.http.auth import ROLES

    ctx = context.load()
    unit = ctx.registry.get(unit_id)
    if unit is None:
        raise click.ClickException(
            f"đơn vị {unit_id} không có trong danh mục / unit {unit_id} is not registered"
        )
    if "read" in roles and not readable_unit(unit):
        raise click.ClickException(
            f"mã xem (read) chỉ cấp cho tỉnh hoặc huyện, không cho {unit.kind.value} {unit_id} / "
            f"read tokens are for provinces and districts, not the {unit.kind.value} {unit_id}"
        )
    if "approve" in roles and not is_reviewer(unit):
        raise click.ClickException(
            f"mã duyệt (approve) chỉ cấp cho tỉnh hoặc huyện, không cho {unit.kind.value} "
            f"{unit_id} / approve tokens are for provinces and districts, not the "
            f"{unit.kind.value} {unit_id}"
        )
    store = open_tokens(ctx.settings)
    held = tuple(r for r in ROLES if r in roles)
    cred, token = store.create(
        unit.unit_id,
        name or f"{unit.unit_id} {unit.name}",
        ctx.clock.now(),
        held,
    )
    store.close()
    click.echo(token)
    click.echo(
        f"token {cred.token_id} ({', '.join(cred.roles)}) for {unit.unit_id} ({unit.name}, "
        f"{unit.kind.value}) in "
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
        roles = ",".join(c.roles)
        click.echo(
            f"{c.token_id}  unit={c.unit_id}  roles={roles}  {c.name!r}  created {c.created_at}  "
            f"{state}"
        )
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


# ---------------------------------------------------------------- health of a running stack


@click.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def doctor(as_json: bool) -> None:
    """Check a running stack and say what is wrong / kiểm tra hệ thống đang chạy.

    Broker, topics, worker, sink and notifier (from their consumer groups), lag, the
    warehouse service's health and readiness, clock skew. Exit code 1 on any FAIL.
    """
    from pydantic import ValidationError

    from baocao import doctor as checks
    from contract.settings import Settings

    try:
        found = checks.run(Settings())
    except ValidationError as exc:
        errors = "; ".join(str(e["msg"]) for e in exc.errors())
        found = [
            checks.Check(
                "settings",
                "FAIL",
                f"cấu hình sai: {errors}",
                f"invalid settings: {errors}",
                "sửa các biến BAOCAO_* đã nêu",
                "fix the BAOCAO_* variables named above",
            )
        ]
    click.echo(checks.to_json(found) if as_json else checks.render(found))
    sys.exit(checks.exit_code(found))


COMMANDS = [dashboards_group, compliance, notify, tokens_group, doctor]
