"""Group commit: concurrent submissions share transactions and flushes, and keep their order."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from contract.events import ReportSubmitted
from producers.http.commit import Entry, GroupCommit
from producers.http.courier import Courier
from producers.http.outbox import Outbox
from producers.kafka import Receipt
from tests.support.api_app import NOW, FakePublisher


class SlowPublisher(FakePublisher):
    """A broker that takes ``seconds`` per acknowledgement, recording each flush."""

    def __init__(self, seconds: float = 0.05) -> None:
        super().__init__()
        self.seconds = seconds
        self.flushes: list[int] = []

    def send(self, reports: list[ReportSubmitted]) -> list[Receipt]:
        time.sleep(self.seconds)
        self.flushes.append(len(reports))
        return super().send(reports)


def report(unit: str = "173", day: str = "2021-07-27", reason: str = "") -> ReportSubmitted:
    return ReportSubmitted.model_validate_json(
        json.dumps(
            {
                "report_id": str(uuid.uuid4()),
                "dataset": "district-daily",
                "unit_id": unit,
                "report_date": day,
                "submitted_at": NOW.isoformat(),
                "submitted_by": "test",
                "values": {"cases_new": 1},
                "reason": reason,
            }
        )
    )


@pytest.fixture
def committer(tmp_path: Path) -> Iterator[tuple[GroupCommit, SlowPublisher, Outbox]]:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = SlowPublisher()
    commits = GroupCommit(outbox, publisher, Courier(outbox, publisher))
    commits.start()
    yield commits, publisher, outbox
    commits.stop()
    outbox.close()


def in_parallel(commits: GroupCommit, entries: list[Entry]) -> list[str]:
    """Commit each entry from its own thread at once; return each one's outcome state."""
    states: list[str] = [""] * len(entries)
    start = threading.Barrier(len(entries))

    def one(i: int) -> None:
        start.wait()
        (outcome,) = commits.commit([entries[i]])
        states[i] = outcome.state

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(entries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return states


def test_concurrent_requests_share_transactions_and_flushes(
    committer: tuple[GroupCommit, SlowPublisher, Outbox],
) -> None:
    commits, publisher, outbox = committer
    entries = [Entry(report(unit=str(100 + i)), f"fp{i}", []) for i in range(60)]
    states = in_parallel(commits, entries)
    assert states == ["sent"] * 60
    assert outbox.count("sent") == 60
    # Each answer waited for its own row's fsync and acknowledgement, but 60 requests
    # needed far fewer than 60 transactions and flushes.
    assert sum(publisher.flushes) == 60 and len(publisher.flushes) <= 10, publisher.flushes
    assert commits.batches <= 10


def test_a_resent_report_id_in_the_same_batch_is_stored_once(
    committer: tuple[GroupCommit, SlowPublisher, Outbox],
) -> None:
    commits, publisher, _ = committer
    one = report()
    states = in_parallel(commits, [Entry(one, "fp", []) for _ in range(8)])
    assert sorted(states) == ["exists"] * 7 + ["sent"]
    assert [str(r.report_id) for r in publisher.sent] == [str(one.report_id)]


def test_racing_corrections_the_policy_refuses_are_refused_once_one_got_in(
    committer: tuple[GroupCommit, SlowPublisher, Outbox],
) -> None:
    commits, publisher, _ = committer
    refusal = ValueError("reason required")
    entries = [Entry(report(day="2021-07-20"), f"fp{i}", [], refusal) for i in range(8)]
    states = in_parallel(commits, entries)
    assert sorted(states) == ["refused"] * 7 + ["sent"]
    assert len(publisher.sent) == 1


def test_a_held_committer_queues_and_a_requeued_row_goes_first(
    committer: tuple[GroupCommit, SlowPublisher, Outbox],
) -> None:
    commits, publisher, outbox = committer
    old = report(day="2021-07-26")
    (first,) = commits.commit([Entry(old, "a", [])])
    assert first.state == "sent"
    commits.hold()  # recovery: the old report is to be sent again, before anything new
    assert commits.requeue([str(old.report_id)]) == 1
    new = report(day="2021-07-27")
    (second,) = commits.commit([Entry(new, "b", [])])
    assert second.state == "queued"
    commits.release()
    assert commits.courier.deliver_once() == 2
    assert [str(r.report_id) for r in publisher.sent] == [str(old.report_id)] * 2 + [
        str(new.report_id)
    ]
    stored = outbox.get(str(old.report_id))
    assert stored is not None and stored.attempts == 2 and stored.state == "sent"


def test_undecided_reports_come_due_for_a_resend_and_wait_longer_each_time(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite", resend_after_s=100)
    one = report()
    outbox.add(one, "fp", [])
    receipt = Receipt(str(one.report_id), "173", "district-daily", "2021-07-27", "t", 0, 1)
    now = time.time()
    outbox.mark_sent_many([receipt], datetime.now())
    assert outbox.undecided(due_before=now + 50) == []
    assert outbox.undecided(due_before=now + 101) == [str(one.report_id)]
    outbox.requeue([str(one.report_id)])
    outbox.mark_sent_many([receipt])
    assert outbox.undecided(due_before=now + 150) == []  # 200 s after the second send
    assert outbox.undecided(due_before=now + 201) == [str(one.report_id)]
