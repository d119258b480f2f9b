"""``baocao up``: run the whole embedded stack as child processes and stop it cleanly.

Children get their own process groups, so Ctrl-C reaches only this runner, which then
stops them in order: demo feeder, warehouse service (it flushes and commits), stream
worker, broker. Nothing is left behind and every port is freed. A child that dies is
started again (``baocao/supervise.py``); only the broker's death stops the stack.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

import click

from baocao import procs
from baocao.broker import BrokerError, EmbeddedBroker, create_topics, port_open
from baocao.context import Context
from baocao.reseed import reseed
from baocao.status import StatusReport, broker_status
from baocao.supervise import GaveUp, Supervised, Supervisor
from contract import topics
from contract.clock import FileClock
from contract.errors import BaocaoError
from contract.settings import Settings


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    args: list[str]
    env: dict[str, str]


def _spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    return Child(name, _start(args, env, log), log, args, env)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115  (the child owns it from here)
    return procs.spawn([sys.executable, "-m", "baocao", *args], out, env)


def _respawn(child: Supervised) -> subprocess.Popen[bytes]:
    assert isinstance(child, Child)
    return _start(child.args, child.env, child.log)


#: The demo history ends here (the demo registry is the 2021-era hierarchy); the live
#: demo carries on from the next day.
DEMO_END = date(2021, 7, 27)
LIVE_DAYS = 30


def _live_demo(
    settings: Settings, data_dir: Path, speed: float
) -> tuple[dict[str, str], list[str]]:
    """The shared clock file's variable, and the command that plays the days after DEMO_END.

    The worker follows the clock in the file, so the simulator can run days faster than
    real time and the deadline watch sees 15:00 pass while someone watches. A restart
    carries on from the day the clock had reached (that day is played again: the
    ledger, restored from the warehouse, drops what was already sent); once the clock
    has reached the last live day, the demo begins again from the first.
    """
    first = DEMO_END + timedelta(days=1)
    last = first + timedelta(days=LIVE_DAYS - 1)
    clock = FileClock(data_dir.resolve() / "clock")
    start = first
    try:
        reached = clock.now().astimezone(settings.tz).date()  # no file: the system clock's
    except ValueError:  # not an instant: begin again
        reached = first
    if first <= reached < last:
        start = reached
    clock.set(datetime.combine(start, day_time(0), settings.tz))  # before the worker starts
    args = ["simulate", "--start", start.isoformat(), "--end", last.isoformat()]
    return {"BAOCAO_CLOCK_FILE": str(clock.path)}, [*args, "--speed", str(speed)]


def _broker_port(broker: str) -> int:
    host, _, port = broker.split(",")[0].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise click.ClickException(
            f"`baocao up` runs its own broker on 127.0.0.1; BAOCAO_BROKER={broker} is remote. "
            "Point the workers at a remote cluster with `baocao worker` and `baocao warehouse`."
        )
    return int(port)


def up(ctx: Context, demo_days: int, data_dir: Path, live_speed: float = 0.0) -> int:
    """Start broker, worker, warehouse service (and demo data); block until Ctrl-C.

    ``demo_days`` of history are published at once; with ``live_speed`` the days after
    them are then played live on a clock the worker follows.
    """
    settings = ctx.settings
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows even through a pipe
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if port_open(settings.http_host, settings.http_port):
        raise click.ClickException(
            f"port {settings.http_port} is in use (is `baocao up` already running?). "
            f"Cổng {settings.http_port} đang được dùng; đặt BAOCAO_HTTP_PORT để đổi."
        )
    broker = EmbeddedBroker(
        port=_broker_port(settings.broker),
        log_path=logs / "broker.log",
        kind=settings.embedded_broker,
    )
    try:
        broker.start()
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    children: list[Child] = []
    stopping = threading.Event()
    broker_died = gave_up = False

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        create_topics(broker.bootstrap, topics.specs(settings.partitions))
        env = {
            **os.environ,
            "BAOCAO_BROKER": broker.bootstrap,
            "BAOCAO_CHDB_PATH": str(settings.chdb_path.resolve()),
            "BAOCAO_BRIEF_DIR": str(settings.brief_dir.resolve()),
            "BAOCAO_LOG_LEVEL": logging.getLevelName(logging.getLogger().level),
        }
        live: list[str] = []
        if live_speed > 0:
            clock_env, live = _live_demo(settings, data_dir, live_speed)
            env |= clock_env
        children.append(_spawn("warehouse", ["warehouse"], env, logs))
        # The broker starts empty; the warehouse remembers every accepted revision.
        try:
            seeded = reseed(settings, broker.bootstrap)
        except (BaocaoError, ValueError) as exc:  # ValueError: history that does not parse
            raise click.ClickException(
                f"cannot restore the stream state: {exc}; see {logs / 'warehouse.log'}"
            ) from exc
        click.echo(
            f"restored from the warehouse: ledger of {seeded.ledger_entries} unit-days, "
            f"{seeded.alert_marks} alerts already sent, {seeded.signal_series} signal series"
        )
        children.append(_spawn("worker", ["worker"], env, logs))
        children.append(_spawn("notify", ["notify"], env, logs))
        # The daily brief at the deadline plus the delay, on the same clock as the worker.
        children.append(_spawn("brief", ["brief-service"], env, logs))
        if demo_days > 0:
            history = ["demo", "--days", str(demo_days), "--end", DEMO_END.isoformat()]
            children.append(_spawn("demo", history, env, logs))
        _print_banner(ctx, broker, children)
        supervisor = Supervisor(lambda line: click.secho(line, fg="yellow", err=True))
        while not stopping.is_set():
            history_sent = not any(c.name == "demo" and c.proc.poll() is None for c in children)
            if live and history_sent:  # live days after the history, never interleaved
                children.append(_spawn("live", live, env, logs))
                click.echo(f"live demo: {' '.join(live)}; its progress is in {logs / 'live.log'}")
                live = []
            # Only the broker's death stops everything: it took what it held with it, and
            # the warehouse service re-sends what it had acknowledged on the next start.
            code = broker.exit_code()
            if code is not None:
                broker_died = True
                click.secho(
                    f"máy chủ Kafka dừng với mã {code}; dừng tất cả / the broker exited with "
                    f"code {code}; stopping everything (the next start re-sends every "
                    f"acknowledged report without a decision); see {logs / 'broker.log'}",
                    fg="red",
                    err=True,
                )
                break
            try:
                supervisor.check(children, _respawn)
            except GaveUp as exc:
                click.secho(str(exc), fg="red", err=True)
                gave_up = True
                break
            stopping.wait(1.0)
    finally:
        click.echo("stopping / đang dừng …")
        if not broker_died and any(c.name == "worker" and c.proc.poll() is None for c in children):
            _drain(settings.model_copy(update={"broker": broker.bootstrap}))
        for child in reversed(children):
            procs.stop(child.proc)
        broker.stop()
        click.echo("stopped / đã dừng.")
    failed = [c for c in children if c.proc.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed or broker_died or gave_up else 0


def _drain(settings: Settings, timeout: float = 30.0) -> None:
    """Let the worker and the sink finish what the broker has acknowledged.

    The embedded broker forgets everything when it stops, so a report it acknowledged
    but nobody processed yet would be lost.
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:  # two calm looks in a row
        report = StatusReport(broker=settings.broker, broker_ok=False)
        broker_status(settings, report)
        quiet = quiet + 1 if report.broker_ok and not any(t.lag for t in report.lags) else 0
        time.sleep(1.0)
    if quiet < 2:
        click.secho(
            "some reports were still in flight / còn báo cáo chưa xử lý xong", fg="yellow", err=True
        )


def _print_banner(ctx: Context, broker: EmbeddedBroker, children: list[Child]) -> None:
    s = ctx.settings
    wh = s.chdb_path.resolve() if s.warehouse == "chdb" else s.clickhouse_url
    lines = [
        (f"broker ({broker.name}, nothing kept)", f"{broker.bootstrap}  pid {broker.pid}"),
        *((f"{c.name}", f"pid {c.proc.pid}  log {c.log}") for c in children),
        ("warehouse data", f"{s.warehouse}: {wh}"),
        ("web UI / status", f"http://{s.http_host}:{s.http_port}/"),
        ("submission form / gửi báo cáo", f"http://{s.http_host}:{s.http_port}/submit"),
        ("API (OpenAPI)", f"http://{s.http_host}:{s.http_port}/api/v1/openapi.json"),
        ("dashboards / bảng điều khiển", f"http://{s.http_host}:{s.http_port}/dashboards"),
        ("daily briefs / báo cáo nhanh", f"http://{s.http_host}:{s.http_port}/briefs"),
    ]
    click.secho("baocao is running / đang chạy:", bold=True)
    for name, where in lines:
        click.echo(f"  {name:<28} {where}")
    click.echo("Ctrl-C stops everything / Ctrl-C để dừng.")
    time.sleep(0)  # keep output ordered before children start logging
