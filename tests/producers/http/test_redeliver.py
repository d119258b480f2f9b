"""Re-sending what the broker acknowledged but the warehouse never decided."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from producers.http.commit import Entry, GroupCommit
from producers.http.courier import Courier
from producers.http.models import Decision
from producers.http.outbox import Outbox
from producers.http.redeliver import Redelivery
from tests.producers.http.test_group_commit import report
from tests.support.api_app import FakePublisher


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Outbox, GroupCommit, FakePublisher]]:
    outbox = Outbox(tmp_path / "outbox.sqlite", resend_after_s=0.5)
    publisher = FakePublisher()
    commits = GroupCommit(outbox, publisher, Courier(outbox, publisher))
    commits.start()
    yield outbox, commits, publisher
    commits.stop()
    commits.courier.stop()


def sent(commits: GroupCommit, n: int) -> list[str]:
    ids = []
    for i in range(n):
        one = report(day=f"2021-07-{20 + i}")
        (outcome,) = commits.commit([Entry(one, f"fp{i}", [])])
        assert outcome.state == "sent"
        ids.append(str(one.report_id))
    return ids


def test_the_start_resends_every_undecided_report_before_anything_new(
    parts: tuple[Outbox, GroupCommit, FakePublisher],
) -> None:
    outbox, commits, publisher = parts
    decided, *lost = sent(commits, 3)
    publisher.sent.clear()  # the broker restarted empty
    warehouse = {decided: Decision(status="accepted", revision=1, timeliness="on_time")}
    asked: list[list[str]] = []

    def decisions(ids: list[str]) -> dict[str, Decision]:
        asked.append(ids)
        return {i: warehouse[i] for i in ids if i in warehouse}

    settled = threading.Event()  # the stream and sink catch up only when the test says so
    redelivery = Redelivery(outbox, commits, commits.courier, decisions, lambda: settled.wait(10))
    redelivery.start()  # holds new submissions until the recovery is done
    new = report(day="2021-07-27")
    (outcome,) = commits.commit([Entry(new, "new", [])])
    assert outcome.state == "queued"  # 202: saved, and sent after the recovery
    settled.set()
    assert redelivery.recovered.wait(10)
    deadline = time.monotonic() + 10
    while len(publisher.sent) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    redelivery.stop()
    assert [str(r.report_id) for r in publisher.sent] == [*lost, str(new.report_id)]
    assert asked == [[decided, *lost]]
    stored = outbox.get(decided)
    assert stored is not None and stored.decision is not None and stored.attempts == 1
    assert redelivery.resent == 2


def test_a_report_undecided_too_long_is_resent_once_the_pipeline_caught_up(
    parts: tuple[Outbox, GroupCommit, FakePublisher],
) -> None:
    outbox, commits, publisher = parts
    (one,) = sent(commits, 1)
    caught_up = False
    redelivery = Redelivery(outbox, commits, commits.courier, lambda ids: {}, lambda: caught_up)
    time.sleep(0.6)
    assert redelivery.tick() == 0  # the pipeline is behind: the report is on its way
    caught_up = True
    assert redelivery.tick() == 1
    assert commits.courier.deliver_once() == 1
    assert [str(r.report_id) for r in publisher.sent] == [one, one]
    assert redelivery.tick() == 0  # the next wait is twice as long
