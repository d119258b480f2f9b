"""`baocao doctor` against a real embedded broker: a missing worker and warehouse are FAIL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer

from baocao.broker import BrokerKind, EmbeddedBroker, create_topics, free_port
from contract import topics

pytestmark = pytest.mark.integration

PARTITIONS = 2


@pytest.fixture(scope="module")
def stack(broker_kind: BrokerKind) -> Iterator[EmbeddedBroker]:
    """Its own broker: doctor looks at the pipeline's real topic and group names."""
    with EmbeddedBroker(kind=broker_kind) as running:
        create_topics(running.bootstrap, topics.specs(PARTITIONS))
        yield running


def run_doctor(broker: EmbeddedBroker) -> tuple[int, dict[str, dict[str, Any]]]:
    env = {
        **os.environ,
        "BAOCAO_BROKER": broker.bootstrap,
        "BAOCAO_PARTITIONS": str(PARTITIONS),
        "BAOCAO_HTTP_PORT": str(free_port()),  # nothing listens there
    }
    done = subprocess.run(
        [sys.executable, "-m", "baocao", "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    body = json.loads(done.stdout)
    return done.returncode, {c["name"]: c for c in body["checks"]}


def test_no_worker_and_no_warehouse_service_fail_with_exit_code_1(stack: EmbeddedBroker) -> None:
    code, found = run_doctor(stack)
    assert code == 1
    assert found["broker"]["level"] == "OK"
    assert found["topics"]["level"] == "OK"
    assert found["worker"]["level"] == "FAIL"
    assert "baocao worker" in found["worker"]["fix_en"]
    assert found["sink"]["level"] == "FAIL"
    assert found["notifier"]["level"] == "WARN"  # optional: alerts still reach the warehouse
    assert found["warehouse"]["level"] == "FAIL"
    assert "does not answer" in found["warehouse"]["en"]


def test_a_member_of_the_worker_group_counts_as_a_running_worker(stack: EmbeddedBroker) -> None:
    member = KafkaConsumer(
        topics.SUBMITTED,
        bootstrap_servers=stack.bootstrap,
        group_id=topics.STREAMS_APP_ID,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=2_000,
        max_poll_interval_ms=10_000,
    )
    try:
        for _ in range(40):
            member.poll(250)
            if member.assignment():
                break
        assert member.assignment(), "the stand-in worker never joined its group"
        code, found = run_doctor(stack)
    finally:
        member.close()
    assert found["worker"]["level"] == "OK", found["worker"]
    assert "1 member" in found["worker"]["en"]
    assert code == 1  # the warehouse service is still missing
