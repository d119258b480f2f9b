"""The submission API under a rush, on the real service: broker, worker, warehouse service.

Many parallel clients; duplicates and corrections racing for one unit-day; the broker
stopped in the middle; the service killed with SIGKILL in the middle. Whatever the
service answered 200/201/202 ends in the warehouse exactly once. Speed is measured by
``python -m bench --only api``, not asserted here.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from baocao.broker import create_topics
from baocao.reseed import reseed
from contract import topics
from contract.registry import Registry
from tests.integration.clients import (
    Answer,
    Clients,
    new_reports,
    province_tokens,
    wait_outbox_decided,
    warehouse_of,
)
from tests.integration.stack import PARTITIONS, Stack
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

CLIENTS = 50


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    running.env["BAOCAO_RATE_LIMIT_PER_MINUTE"] = "0"
    # only the start's recovery may re-send: it must be enough
    running.env["BAOCAO_OUTBOX_RESEND_SECONDS"] = "3600"
    running.start()
    running.wait_for("the service", lambda s: True)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def wait_decided(stack: Stack, acked: list[Answer], timeout: float = 300) -> None:
    """Until the service's outbox has a decision for every acknowledged report."""
    decided = wait_outbox_decided(stack.root / "outbox.sqlite", acked, timeout)
    assert decided == len(acked), (
        f"{decided} of {len(acked)} decided\n{stack.log_tail('worker')}\n"
        f"{stack.log_tail('warehouse')}"
    )


def exactly_once(stack: Stack, acked: list[Answer]) -> None:
    """Stop the service (it flushes), then compare the warehouse with the answers."""
    stack.stop_process("warehouse")
    got = warehouse_of(acked, stack.root / "warehouse")
    ids = {a.body["report_id"] for a in acked}
    assert set(got["decisions"]) == ids, f"never decided: {sorted(ids - set(got['decisions']))}"
    assert set(got["decisions"].values()) == {1}, "a report was decided twice, differently"
    if got["copies"]:
        warnings.warn(f"{got['copies']} decision(s) stored twice", stacklevel=1)
    assert got["rejected"] == []
    assert got["cases"] == sum(a.body["values"]["cases_new"] for a in acked)


def test_many_parallel_clients_each_get_a_true_answer(stack: Stack, registry: Registry) -> None:
    tokens = province_tokens(stack.root, registry)
    work = new_reports(registry, date(2021, 7, 27), 12)  # 50 districts x 12 days
    clients = Clients(stack.http_port, tokens, registry, work, n=CLIENTS)
    clients.start()
    clients.join()
    assert not clients.failures
    assert Counter(a.status for a in clients.answers) == {201: 600}
    assert len({a.reply["report_id"] for a in clients.answers}) == 600
    wait_decided(stack, clients.acknowledged())
    exactly_once(stack, clients.acknowledged())


def wait_accepted(stack: Stack, token: str, ids: list[str], timeout: float = 240) -> None:
    """Until every receipt says accepted (GET /api/v1/reports/{id})."""
    deadline = time.monotonic() + timeout
    waiting = list(ids)
    while waiting and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
        try:
            conn.request(
                "GET", f"/api/v1/reports/{waiting[0]}", headers={"Authorization": f"Bearer {token}"}
            )
            resp = conn.getresponse()
            status = json.loads(resp.read()).get("status")
        finally:
            conn.close()
        if status == "accepted":
            waiting.pop(0)
        else:
            time.sleep(0.5)
    assert not waiting, f"no decision for {waiting}\n{stack.log_tail('worker')}"


def race(stack: Stack, token: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Post every body at the same moment, each from its own thread."""
    start = threading.Barrier(len(bodies))
    out: list[tuple[int, Any]] = [(0, None)] * len(bodies)

    def one(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        start.wait()
        conn.request("POST", "/api/v1/reports", json.dumps(bodies[i]), headers)
        resp = conn.getresponse()
        out[i] = (resp.status, json.loads(resp.read()))
        conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def district(unit: str, day: str, cases: int, **more: Any) -> dict[str, Any]:
    return {
        "report_id": str(uuid.uuid4()),
        "dataset": "district-daily",
        "unit_id": unit,
        "report_date": day,
        "values": {"cases_new": cases, "tests_pcr": 100, "tests_pcr_positive": 1},
        **more,
    }


def test_duplicates_and_corrections_racing_for_one_unit_day(
    stack: Stack, registry: Registry
) -> None:
    token = province_tokens(stack.root, registry)["19"]
    # The same report sent 20 times at once: stored and published once.
    same = district("173", "2021-07-20", 5)
    answers = race(stack, token, [same] * 20)
    assert sorted(s for s, _ in answers) == [200] * 19 + [201]
    assert len({(b["partition"], b["offset"]) for _, b in answers}) == 1
    # Its report_id with other content: a conflict.
    other = race(stack, token, [{**same, "values": {"cases_new": 6}}])
    assert other[0][0] == 409
    # 20 different reports for one unit-day, after its deadline, without a reason: the
    # first is the report, every other would be a correction without its reason.
    late = race(stack, token, [district("172", "2021-07-20", n) for n in range(20)])
    assert sorted(s for s, _ in late) == [201] + [422] * 19
    assert {b["reasons"][0]["code"] for s, b in late if s == 422} == {"reason_required"}
    # 10 corrections with a reason racing: all taken, numbered in the broker's order.
    fixes = race(
        stack, token, [district("171", "2021-07-20", n, reason="rà soát") for n in range(10)]
    )
    assert [s for s, _ in fixes] == [201] * 10
    ids = [b["report_id"] for s, b in [*answers, *late, *fixes] if s == 201]
    wait_accepted(stack, token, ids)
    stack.stop_process("warehouse")
    with Warehouse.connect(stack.settings) as wh:
        wh.ensure_schema()
        rows = wh.query_rows(
            "SELECT DISTINCT toString(report_id) AS rid, unit_id, revision FROM reports "
            "WHERE report_date = '2021-07-20'"
        )
    by_unit = Counter(unit for _, unit, _ in rows)
    assert by_unit == {"173": 1, "172": 1, "171": 10}
    revision = {rid: rev for rid, unit, rev in rows if unit == "171"}
    in_broker_order = sorted(fixes, key=lambda a: (a[1]["partition"], a[1]["offset"]))
    assert [revision[b["report_id"]] for _, b in in_broker_order] == list(range(1, 11))


def test_the_broker_stopped_mid_rush_answers_queued_and_loses_nothing(
    stack: Stack, registry: Registry
) -> None:
    tokens = province_tokens(stack.root, registry)
    work = new_reports(registry, date(2021, 7, 27), 12)
    clients = Clients(stack.http_port, tokens, registry, work, n=10, pause_s=0.3)
    clients.start()
    time.sleep(8)
    stack.broker.stop()  # the embedded broker forgets what it held, acknowledged or not
    stack.stop_process("worker", signal.SIGKILL)
    time.sleep(10)  # the API goes on answering: 202, saved in the outbox
    queued = Counter(a.status for a in clients.answers)[202]
    # What `baocao up` does when its broker died: start everything again, the stream's
    # state restored from the warehouse (a service that outlived its broker could
    # commit the old broker's offsets to the new one).
    stack.stop_process("warehouse")
    stack.broker.start()
    create_topics(stack.bootstrap, topics.specs(PARTITIONS))
    stack.start_process("warehouse")
    reseed(stack.settings, stack.bootstrap)
    stack.start_process("worker")
    time.sleep(5)
    clients.stop()
    assert not clients.failures
    statuses = Counter(a.status for a in clients.answers)
    assert statuses[201] > 0 and queued > 0, statuses  # answered while it was away
    assert set(statuses) <= {200, 201, 202}, statuses
    acked = clients.acknowledged()
    wait_decided(stack, acked)
    log = (stack.root / "warehouse.log").read_text(errors="replace")
    assert "re-sending" in log, "no acknowledged report was re-sent: the broker lost none?"
    exactly_once(stack, acked)


def test_a_service_killed_mid_rush_loses_nothing(stack: Stack, registry: Registry) -> None:
    tokens = province_tokens(stack.root, registry)
    work = new_reports(registry, date(2021, 7, 27), 12)
    clients = Clients(stack.http_port, tokens, registry, work, n=CLIENTS, pause_s=0.2)
    clients.start()
    time.sleep(6)
    stack.stop_process("warehouse", signal.SIGKILL)
    time.sleep(2)
    stack.start_process("warehouse")
    stack.wait_for("the restarted service", lambda s: True)
    time.sleep(4)
    clients.stop()
    assert not clients.failures
    acked = clients.acknowledged()
    assert len(acked) == len(clients.answers) > 100
    wait_decided(stack, acked)
    exactly_once(stack, acked)
