"""`baocao brief` (one brief as a file) and `baocao brief-service` (made and sent on the clock).

Both read the warehouse the way `baocao compliance` does: through the running warehouse
service when there is one (chDB has one owner), else by opening the warehouse.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import click

from baocao import context, warehouse_client
from baocao.cli_surveillance import check_province, report_day
from baocao.context import Context
from contract.errors import BaocaoError
from contract.population import load_population
from contract.settings import Settings
from sinks.brief.archive import Version
from sinks.brief.maker import Due, NoBrief
from sinks.brief.render import FORMATS, Format


class ServiceError(BaocaoError):
    """The warehouse service did not answer, or refused what the brief service asked."""


class ServiceMaker:
    """The brief service's maker when another process owns the warehouse: its web service."""

    def __init__(self, settings: Settings, timeout: float = 600.0) -> None:
        self.settings, self.timeout = settings, timeout  # a national brief may take a while

    def _call(self, path: str, method: str = "GET") -> bytes:
        url = warehouse_client.service_url(self.settings, path)
        data = b"" if method == "POST" else None
        request = warehouse_client.request(self.settings, path, method, data)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                body: bytes = resp.read()
                return body
        except urllib.error.HTTPError as exc:
            raise ServiceError(f"{method} {url}: HTTP {exc.code} {exc.read()[:500]!r}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ServiceError(f"{method} {url}: {exc}") from exc

    def pending(self, days: Sequence[date]) -> list[Due]:
        query = urllib.parse.urlencode([("day", d.isoformat()) for d in days])
        return [Due.from_json(d) for d in json.loads(self._call(f"/api/briefs/pending?{query}"))]

    def make(self, area: str, day: date) -> Version | None:
        query = urllib.parse.urlencode({"area": area, "day": day.isoformat()})
        made = json.loads(self._call(f"/api/briefs/make?{query}", "POST"))["version"]
        return Version.from_json(made) if made else None

    def versions(self, first: date, last: date, area: str | None = None) -> list[Version]:
        query = {"from": first.isoformat(), "to": last.isoformat(), "area": area or ""}
        found = json.loads(self._call(f"/api/briefs?{urllib.parse.urlencode(query)}"))
        return [Version.from_json(v) for v in found]

    def fetch(self, version: Version, fmt: str) -> bytes:
        return self._call(version.url(fmt))


def _from_service(settings: Settings, query: dict[str, str]) -> bytes | None:
    """The document from the running warehouse service; None when no service answers."""
    path = "/api/briefs/render?" + urllib.parse.urlencode(query)
    try:
        with urllib.request.urlopen(warehouse_client.request(settings, path), timeout=600) as resp:
            body: bytes = resp.read()
            return body
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
            message = f"{answer['message_vi']} / {answer['message_en']}"
        except (ValueError, KeyError):
            message = f"HTTP {exc.code}"
        raise click.ClickException(message) from exc
    except (urllib.error.URLError, OSError):
        return None


def _direct(ctx: Context, province: str | None, day: date, fmt: Format, lang: str) -> bytes:
    """Open the warehouse (nobody else has it) and build the document here.

    The national roll-up takes seconds: a progress bar on stderr shows its steps.
    """
    from sinks.brief.gather import gather
    from sinks.brief.maker import check_brief
    from sinks.brief.render import render
    from warehouse.client import Warehouse

    language: Literal["vi", "en"] = "en" if lang == "en" else "vi"
    population = load_population(ctx.registry, ctx.settings.population_path)
    with Warehouse.connect(ctx.settings) as wh:
        wh.ensure_schema()
        steps: list[tuple[str, Callable[[Any], Any]]] = [
            ("kiểm tra / checking", lambda _: check_brief(wh, ctx.registry, province, day)),
            ("tổng hợp / gathering", lambda _: gather(
                wh, ctx.registry, ctx.catalog, province, day, ctx.settings.tz, ctx.clock.now(),
                population=population)),
            ("trình bày / rendering", lambda brief: render(brief, fmt, language)),
        ]  # fmt: skip
        result: Any = None
        hidden = province is not None  # one province's brief takes under a second
        with click.progressbar(
            steps, label="báo cáo nhanh toàn quốc / national brief", file=sys.stderr,
            item_show_func=lambda step: step[0] if step else None, hidden=hidden,
        ) as bar:  # fmt: skip
            for _, step in bar:
                result = step(result)
    body: bytes = result
    return body


@click.command("brief")
@click.option("--date", "day", required=True, help="reporting date YYYY-MM-DD")
@click.option("--province", help="province code, e.g. 19; without it: the national roll-up")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="pdf", show_default=True,
    help="pdf to read and forward, docx to edit and sign, html for a browser",
)  # fmt: skip
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path),
    help="file to write ('-': standard output); default bao-cao-nhanh-<area>-<date>.<format>",
)  # fmt: skip
def brief(day: str, province: str | None, fmt: Format, lang: str, out: Path | None) -> None:
    """Báo cáo nhanh hằng ngày / the daily brief of a province (or the nation) as a file."""
    when = report_day(day)
    ctx = context.load()
    if province:
        check_province(ctx.registry, province)
    area = province or "national"
    query = {"date": when.isoformat(), "format": fmt, "lang": lang, "province": province or ""}
    body = _from_service(ctx.settings, query)
    if body is None:
        if ctx.settings.warehouse != "chdb":
            raise click.ClickException(
                "dịch vụ kho dữ liệu không trả lời / the warehouse service does not answer"
                f" at {warehouse_client.service_url(ctx.settings, '/')}"
            )
        try:
            body = _direct(ctx, province, when, fmt, lang)
        except NoBrief as exc:
            raise click.ClickException(str(exc)) from exc
        except BaocaoError as exc:
            raise click.ClickException(f"kho dữ liệu / warehouse: {exc}") from exc
    target = out or Path(f"bao-cao-nhanh-{area}-{when.isoformat()}.{fmt}")
    if str(target) == "-":
        sys.stdout.buffer.write(body)
        return
    target.write_bytes(body)
    click.echo(f"đã ghi / wrote {target} ({len(body):,} bytes)")


@click.command("brief-service")
@click.option("--interval", default=5.0, show_default=True, help="seconds between looks")
def brief_service(interval: float) -> None:
    """Make, archive and send the daily briefs after each deadline (until Ctrl-C)."""
    from sinks.brief.deliver import Deliverer
    from sinks.brief.service import BriefService

    ctx = context.load()
    maker = ServiceMaker(ctx.settings)
    deliverer = Deliverer(ctx.settings, ctx.registry, maker.fetch)
    service = BriefService(ctx.settings, ctx.catalog, maker, ctx.clock, deliverer, interval)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.run(stop)


COMMANDS = [brief, brief_service]
