"""A worker told to stop after its broker died is gone in time, as `baocao up`'s
children must be when the runner is killed (every child gets SIGTERM at once)."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from baocao.broker import create_topics
from contract import topics
from contract.datasets import Catalog
from contract.registry import Registry
from producers.kafka import ReportProducer
from producers.simulator import simulate
from streams.compat.stop_deadline import EXIT_STOP_TIMED_OUT
from tests.integration.plan import wait_committed
from tests.integration.stack import PARTITIONS, Stack

pytestmark = pytest.mark.integration


def test_a_worker_stopped_after_its_broker_died_exits_within_its_stop_limit(
    tmp_path: Path,
) -> None:
    stack = Stack(tmp_path)
    stack.env["BAOCAO_WORKER_STOP_SECONDS"] = "5"
    try:
        stack.broker.start()
        create_topics(stack.bootstrap, topics.specs(PARTITIONS))
        # A backlog of several seconds' work, so the worker is mid-drain at the kill.
        registry, catalog = Registry.load(), Catalog.load()
        days = [date(2021, 7, 27) - timedelta(days=n) for n in range(40)]
        plan = simulate(registry, catalog, days, ZoneInfo("Asia/Ho_Chi_Minh"), seed=3)
        with ReportProducer(stack.settings) as producer:
            producer.send(plan.reports)
        worker = stack.start_worker()
        assert wait_committed(stack, topics.STREAMS_APP_ID, topics.SUBMITTED, 200) >= 200
        broker_pid = stack.broker.pid
        assert broker_pid is not None
        os.kill(broker_pid, signal.SIGKILL)  # gone: the stop's last commit cannot land
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            code = worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            pytest.fail(f"the worker was still stopping after 60 s\n{stack.log_tail('worker')}")
        assert code == EXIT_STOP_TIMED_OUT, stack.log_tail("worker")
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "worker stop did not finish in 5 s" in log
        assert "where the stop waited" in log
        # aiokafka retried thousands of times a second meanwhile; the log says so once
        # per 30 s (it held ≈ 35,000 of these lines after 10 s before).
        assert 1 <= log.count("Unable to update metadata") <= 5, log.count(
            "Unable to update metadata"
        )
    finally:
        stack.stop()


def test_the_warehouse_service_stop_is_bounded_too(tmp_path: Path) -> None:
    """Its stop joins the web server (in-flight requests) and the sink (a last commit);
    past ``BAOCAO_WAREHOUSE_STOP_SECONDS`` it exits anyway and says where it waited.
    A deadline shorter than the web server's shutdown shows the limit is applied."""
    stack = Stack(tmp_path)
    stack.env["BAOCAO_WAREHOUSE_STOP_SECONDS"] = "0.01"
    try:
        stack.start()  # the broker, a worker and the warehouse service
        service = stack.procs["warehouse"]
        stack.wait_for("the service answering", lambda s: True)
        os.killpg(service.pid, signal.SIGTERM)
        assert service.wait(60) == EXIT_STOP_TIMED_OUT, stack.log_tail("warehouse")
        log = (tmp_path / "warehouse.log").read_text(errors="replace")
        assert "warehouse service stop did not finish in 0.01 s" in log
        assert "where the stop waited" in log and "thread " in log
    finally:
        stack.procs.pop("warehouse", None)
        stack.stop()
