"""``baocao dhis2 export`` and ``baocao dhis2 import``: data exchange with DHIS2."""

from __future__ import annotations

import getpass
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import IO, Any

import click

from baocao import context, warehouse_client
from baocao.dhis2 import mapping as dhis2_mapping
from baocao.dhis2.export import document, latest_reports
from baocao.dhis2.routes import PATH, parse_span
from contract.errors import BaocaoError, ConfigError, SubmissionError

EXPORT_EXAMPLE = """
\b
Ví dụ / Examples:
  baocao dhis2 export --dataset district-daily --from 2021-07-20 --to 2021-07-27 \\
      --out district-daily.json
  DHIS2_PASSWORD=… baocao dhis2 export --dataset district-daily --from 2021-07-27 \\
      --to 2021-07-27 --push https://dhis2.example.org --user baocao --dry-run
\b
Chỉ xuất bản sửa mới nhất của mỗi đơn vị-ngày; đơn vị theo mã (idScheme=code).
--push gửi thử (dryRun=true) trước, rồi gửi thật nếu không có --dry-run.
Only the latest revision of each unit-day is exported; units by code (idScheme=code).
--push first sends with dryRun=true, then for real unless --dry-run.
"""

IMPORT_EXAMPLE = """
\b
Ví dụ / Examples:
  baocao dhis2 import district-daily.json --dry-run
  baocao dhis2 import district-daily.json --reason "Đồng bộ từ DHIS2" --wait
\b
Mỗi (orgUnit, period, dataSet) thành một báo cáo, kiểm tra như `baocao submit`;
một dòng sai thì không gửi gì. Nhập lại cùng tệp là gửi trùng, không thành bản sửa.
Each (orgUnit, period, dataSet) becomes one report, checked as `baocao submit` checks
it; one bad row and nothing is sent. Importing the same file again is a re-send (a
duplicate), not a new revision.
"""

_MAPPING_HELP = (
    "tệp ánh xạ TOML (mặc định: bản ví dụ có sẵn) / mapping file (default: the built-in"
    " example, contract/data/dhis2-mapping.toml)"
)


@click.group("dhis2")
def dhis2() -> None:
    """Trao đổi dữ liệu với DHIS2 / data exchange with DHIS2 (docs/dhis2.md)."""


def _mapping(catalog: Any, path: Path | None) -> dhis2_mapping.Mapping:
    try:
        return dhis2_mapping.load(catalog, path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@dhis2.command("export", epilog=EXPORT_EXAMPLE)
@click.option("--dataset", required=True, help="biểu mẫu / dataset, e.g. district-daily")
@click.option("--from", "start", required=True, help="từ ngày / first day, YYYY-MM-DD")
@click.option("--to", "end", required=True, help="đến ngày / last day, YYYY-MM-DD")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="ghi tài liệu vào tệp / write the document to this file (default: standard output,"
    " unless --push)",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=_MAPPING_HELP,
)
@click.option("--push", "push_url", metavar="URL", help="gửi tới DHIS2 / POST to this DHIS2 server")
@click.option("--user", help="tài khoản DHIS2 / DHIS2 user name (with --push)")
@click.option(
    "--password-env",
    default="DHIS2_PASSWORD",
    show_default=True,
    metavar="VAR",
    help="biến môi trường chứa mật khẩu / environment variable holding the password"
    " (asked for on a terminal when unset)",
)
@click.option(
    "--dry-run", is_flag=True, help="chỉ gửi thử / only the dryRun=true check (with --push)"
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="giây chờ DHIS2 / seconds to wait for DHIS2",
)
def export_cmd(
    dataset: str,
    start: str,
    end: str,
    out: Path | None,
    mapping_path: Path | None,
    push_url: str | None,
    user: str | None,
    password_env: str,
    dry_run: bool,
    timeout: float,
) -> None:
    """Xuất dataValueSets cho DHIS2 / write a DHIS2 dataValueSets document."""
    ctx = context.load()
    if ctx.catalog.get(dataset) is None:
        known = ", ".join(d.code for d in ctx.catalog.datasets)
        raise click.BadParameter(
            f"không có biểu mẫu {dataset} (có: {known}) / no dataset {dataset} (known: {known})",
            param_hint="--dataset",
        )
    found = _mapping(ctx.catalog, mapping_path)
    dm = found.get(dataset)
    if dm is None:
        raise click.ClickException(
            f"bảng ánh xạ {found.source} không có [datasets.{dataset}] / the mapping"
            f" {found.source} has no [datasets.{dataset}]"
        )
    try:
        first, last = parse_span(start, end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from/--to") from exc
    password = _password(push_url, user, password_env, dry_run)
    query = urllib.parse.urlencode({"dataset": dataset, "from": start, "to": end})
    try:
        rows = warehouse_client.ask(
            ctx.settings,
            f"{PATH}?{query}",
            lambda wh: latest_reports(wh, dataset, first, last),
        )
    except BaocaoError as exc:
        raise click.ClickException(f"kho dữ liệu / warehouse: {exc}") from exc
    exported = document(rows, dm, ctx.settings.tz)
    click.echo(
        f"{exported.reports} báo cáo, {exported.values} giá trị / {exported.reports} reports,"
        f" {exported.values} values ({dataset}, {first}..{last}, bản mới nhất / latest"
        " revisions)",
        err=True,
    )
    for key, n in sorted(exported.unmapped.items()):
        click.secho(
            f"  chưa ánh xạ, không xuất / not mapped, not exported: {key} ({n} giá trị / values)"
            f" — thêm vào / add it to {found.source}",
            fg="yellow",
            err=True,
        )
    text = json.dumps(exported.document, ensure_ascii=False, indent=1) + "\n"
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(
                f"không ghi được {out} / cannot write {out}: {exc.strerror}"
            ) from exc
        click.echo(f"đã ghi / wrote {out}", err=True)
    elif push_url is None:
        click.echo(text, nl=False)
    if push_url is not None:
        assert user is not None and password is not None  # _password checked them
        if found.examples:
            click.secho(
                f"  chú ý: {found.source} còn mã ví dụ EXAMPLE_… / note: {found.source} still"
                " holds made-up EXAMPLE_… codes (--mapping)",
                fg="yellow",
                err=True,
            )
        sys.exit(_push(push_url, user, password, exported.document, dry_run, timeout))


def _password(push_url: str | None, user: str | None, variable: str, dry_run: bool) -> str | None:
    if push_url is None:
        if user or dry_run:
            raise click.UsageError(
                "--user và --dry-run đi với --push / --user and --dry-run go with --push"
            )
        return None
    if not user:
        raise click.UsageError("--push cần --user / --push needs --user")
    password = os.environ.get(variable)
    if password is None and sys.stdin.isatty():
        password = click.prompt(f"Mật khẩu DHIS2 / DHIS2 password ({user})", hide_input=True)
    if not password:
        raise click.UsageError(
            f"đặt mật khẩu vào biến môi trường {variable} / put the password in the environment"
            f" variable {variable} (--password-env)"
        )
    return str(password)


def _push(
    url: str, user: str, password: str, doc: dict[str, Any], dry: bool, timeout: float
) -> int:
    """Dry run, then (unless ``dry``) the real import; the exit status."""
    from baocao.dhis2.push import post, render

    if not doc["dataValues"]:
        click.echo("không có giá trị nào để gửi / nothing to send", err=True)
        return 0
    for real in (False, True) if not dry else (False,):
        try:
            summary = post(url, user, password, doc, dry_run=not real, timeout=timeout)
        except BaocaoError as exc:
            click.secho(f"Lỗi / Error: {exc}", fg="red", err=True)
            return 1
        for n, line in enumerate(render(summary, dry_run=not real)):
            bad = summary.failed or (n > 0 and bool(summary.conflicts))
            click.secho(line, fg="red" if bad else ("green" if n == 0 else None))
        if summary.failed:
            click.secho(
                "DHIS2 báo lỗi (ERROR): không gửi tiếp / DHIS2 reported ERROR: stopping",
                fg="red",
                err=True,
            )
            return 1
    return 0


@dhis2.command("import", epilog=IMPORT_EXAMPLE)
@click.argument("file", type=click.File("rb"))
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=_MAPPING_HELP,
)
@click.option("--by", "submitted_by", default=getpass.getuser, help="người gửi / who submits")
@click.option(
    "--reason",
    default="",
    help="lý do sửa (bắt buộc khi sửa sau hạn) / why this corrects earlier reports"
    " (needed after the deadline)",
)
@click.option("--dry-run", is_flag=True, help="chỉ kiểm tra, không gửi / check only; send nothing")
@click.option(
    "--wait",
    type=click.FloatRange(min=1),
    is_flag=False,
    flag_value=30.0,
    default=None,
    metavar="[SECONDS]",
    help="chờ quyết định của luồng / then wait for the stream's decisions (default 30 s)",
)
def import_cmd(
    file: IO[bytes],
    mapping_path: Path | None,
    submitted_by: str,
    reason: str,
    dry_run: bool,
    wait: float | None,
) -> None:
    """Nhập dataValueSets của DHIS2 thành báo cáo / import a DHIS2 dataValueSets document."""
    from baocao.cli_reports import _fail_submission
    from baocao.dhis2.importer import reports_from_document
    from baocao.submit import send_reports

    ctx = context.load()
    found = _mapping(ctx.catalog, mapping_path)
    try:
        doc = json.loads(file.read())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(
            f"tệp không phải JSON hợp lệ / the file is not valid JSON: {exc}"
        ) from exc
    try:
        imported = reports_from_document(
            doc,
            found,
            ctx.registry,
            ctx.catalog,
            ctx.settings.tz,
            ctx.clock,
            submitted_by,
            reason,
        )
        click.echo(
            f"{len(imported.reports)} báo cáo từ {imported.values} giá trị / reports from"
            f" {imported.values} values"
            + (
                f" ({imported.skipped_deleted} giá trị đã xoá bỏ qua / deleted values skipped)"
                if imported.skipped_deleted
                else ""
            ),
            err=True,
        )
        code = send_reports(ctx, imported.reports, dry_run, wait)
    except SubmissionError as exc:
        _fail_submission(exc)
    except BaocaoError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)
