"""``baocao init``: prepare a fresh deployment (warehouse schema, then Grafana dashboards).

Run once before the long-running services, and again after an upgrade: every step is
idempotent (CREATE ... IF NOT EXISTS, views replaced, dashboards overwritten only when
they changed), so re-running it on a live stack is safe.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from contract.errors import BaocaoError
from contract.settings import Settings

INIT_EXAMPLE = """
\b
Examples / Ví dụ:
  baocao init        # the warehouse that BAOCAO_WAREHOUSE etc. name; no Grafana
  BAOCAO_GRAFANA_URL=http://grafana:3000 BAOCAO_GRAFANA_TOKEN=glsa_... baocao init
  baocao init --grafana-url http://127.0.0.1:3000 --grafana-token glsa_... --folder baocao
\b
With BAOCAO_CLICKHOUSE_CLUSTER set, the tables are created ON CLUSTER as Replicated
tables behind Distributed ones. Without a Grafana URL and token the dashboards are not
published (Grafana still loads them from dashboards/provisioning).
"""


def apply_schema(settings: Settings) -> str:
    """Create the warehouse database, tables and views; return what was done, vi/en."""
    from warehouse import schema
    from warehouse.wait import open_when_ready

    with open_when_ready(settings, lambda line: click.echo(line, err=True)) as wh:
        wh.ensure_schema()
    where = f" ON CLUSTER {settings.clickhouse_cluster}" if settings.clickhouse_cluster else ""
    return (
        f"kho dữ liệu / warehouse `{settings.database}`{where}: "
        f"{len(schema.TABLES)} bảng / tables, {len(schema.VIEW_NAMES)} view — "
        "đã sẵn sàng / ready"
    )


@click.command("init", epilog=INIT_EXAMPLE)
@click.option(
    "--grafana-url",
    envvar="BAOCAO_GRAFANA_URL",
    default="",
    help="Grafana to publish the dashboards to (also BAOCAO_GRAFANA_URL); empty: skip",
)
@click.option(
    "--grafana-token",
    envvar="BAOCAO_GRAFANA_TOKEN",
    default="",
    help="Grafana service-account token (also BAOCAO_GRAFANA_TOKEN)",
)
@click.option("--folder", default="baocao", show_default=True, help="Grafana folder")
def init(grafana_url: str, grafana_token: str, folder: str) -> None:
    """Apply the warehouse schema and publish the dashboards (safe to re-run)."""
    if bool(grafana_url) != bool(grafana_token):
        raise click.UsageError(
            "cần cả BAOCAO_GRAFANA_URL và BAOCAO_GRAFANA_TOKEN (hoặc không cái nào) / "
            "set both BAOCAO_GRAFANA_URL and BAOCAO_GRAFANA_TOKEN, or neither"
        )
    try:
        settings = Settings()
    except ValidationError as exc:
        raise click.ClickException(f"cấu hình sai / invalid settings: {exc}") from exc
    try:
        click.echo(apply_schema(settings))
    except BaocaoError as exc:
        raise click.ClickException(
            f"không tạo được lược đồ kho dữ liệu / could not apply the warehouse schema: {exc}"
        ) from exc
    if not grafana_url:
        click.echo(
            "bảng điều khiển: bỏ qua, chưa có URL/token Grafana / "
            "dashboards: skipped, no Grafana URL/token"
        )
        return
    from dashboards.publish import connect, publish

    try:
        publish(connect(grafana_url, grafana_token), folder=folder, echo=click.echo)
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc


COMMANDS = [init]
