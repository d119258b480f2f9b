"""Group commit: concurrent submissions share one outbox transaction and one broker flush.

The promise of each answer is unchanged: 201 once the broker acknowledged the report
(acks=all), 202 once its row is fsynced in the outbox. Each costs an fsync (≈ 3 ms
here) and a broker round trip; paid per request they capped the API at a few dozen
reports a second. A request hands its rows to the committer and waits; the committer
writes whatever has arrived in one transaction and publishes it with one flush, so a
rush makes batches bigger rather than queues longer (``tests/producers/http/test_group_commit.py``).

Two requests racing for the same unit-day meet here in order: a row whose correction
policy would refuse it once another submission exists (``Entry.refuse_if_earlier``)
is refused when the committer finds that other one, even if it arrived in the same batch.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from contract.events import ReportSubmitted
from producers.http.courier import Courier
from producers.http.models import Publisher
from producers.http.outbox import PUBLISH_ERRORS, Outbox
from producers.kafka import Receipt

log = logging.getLogger(__name__)

#: Most reports one transaction and one flush carry.
MAX_BATCH = 1000


@dataclass
class Entry:
    """A checked submission to store and publish."""

    report: ReportSubmitted
    fingerprint: str
    warnings: list[dict[str, object]]
    #: What to answer if another submission for the unit-day exists (a correction the
    #: policy refuses), or None when a correction would be fine.
    refuse_if_earlier: Exception | None = None


@dataclass
class Outcome:
    """What became of one entry: sent (201), queued (202), or already stored (a re-send)."""

    state: Literal["sent", "queued", "exists", "refused"]
    receipt: Receipt | None = None
    error: Exception | None = None


@dataclass
class _Job:
    entries: list[Entry]
    done: Future[list[Outcome]] = field(default_factory=Future)
    outcomes: list[Outcome] = field(default_factory=list)


#: Reports written to the outbox, waiting for the publishing stage (None: stop).
_Written = list[tuple[_Job, list[tuple[Outcome, ReportSubmitted]]]] | None


class GroupCommit:
    """Store and publish submissions in batches, on two threads working in a pipeline.

    The writer stores one batch (an fsync) while the publisher sends the one before (a
    broker round trip); batches are published in the order they were written.
    """

    def __init__(self, outbox: Outbox, publisher: Publisher, courier: Courier) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.courier = courier
        self.batches = 0  # how many transactions, for tests and metrics
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._written: queue.Queue[_Written] = queue.Queue()
        # Held while deciding whether new rows may go straight to the broker, and while
        # rows are queued to be sent again: a newer report never overtakes an older one.
        self._order = threading.Lock()
        self._held = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._write_batches, name="outbox-commit", daemon=True),
            threading.Thread(target=self._publish_batches, name="outbox-publish", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._threads:
            self._jobs.put(None)
            for t in self._threads:
                t.join(timeout)
            self._threads = []

    def commit(self, entries: list[Entry], timeout: float = 120.0) -> list[Outcome]:
        """Store and publish ``entries`` together; one outcome each, in order."""
        return self.enqueue(entries).result(timeout)

    def enqueue(self, entries: list[Entry]) -> Future[list[Outcome]]:
        """Hand ``entries`` over without waiting: the future holds their outcomes."""
        if not self._threads:
            raise RuntimeError("the committer is not running / bộ ghi chưa chạy")
        job = _Job(entries)
        self._jobs.put(job)
        return job.done

    def hold(self) -> None:
        """Queue new rows instead of publishing them until ``release`` (recovery runs)."""
        with self._order:
            self._held = True

    def release(self) -> None:
        with self._order:
            self._held = False

    def requeue(self, report_ids: list[str]) -> int:
        """Queue undecided sent rows to be sent again, in order with new ones."""
        with self._order:
            return self.outbox.requeue(report_ids)

    def _write_batches(self) -> None:
        while (jobs := _take(self._jobs, MAX_BATCH, lambda j: len(j.entries))) is not None:
            try:
                written = self._write(jobs)
            except BaseException as exc:  # a failed transaction stored nothing: say so
                log.exception("outbox: a batch of %d request(s) failed", len(jobs))
                for j in jobs:
                    j.done.set_exception(exc)
                continue
            self._written.put(written)
        self._written.put(None)

    def _write(self, jobs: list[_Job]) -> list[tuple[_Job, list[tuple[Outcome, ReportSubmitted]]]]:
        written = []
        with self.outbox.transaction() as tx:
            for job in jobs:
                fresh = []
                for e in job.entries:
                    rid = str(e.report.report_id)
                    if tx.exists(rid):
                        job.outcomes.append(Outcome("exists"))
                    elif e.refuse_if_earlier is not None and tx.has_other(e.report.ledger_key, rid):
                        job.outcomes.append(Outcome("refused", error=e.refuse_if_earlier))
                    else:
                        tx.insert(e.report, e.fingerprint, e.warnings)
                        job.outcomes.append(Outcome("queued"))
                        fresh.append((job.outcomes[-1], e.report))
                written.append((job, fresh))
        self.batches += 1
        return written

    def _publish_batches(self) -> None:
        while (batches := _take(self._written, MAX_BATCH, len)) is not None:
            written = [w for batch in batches for w in batch]
            fresh = [f for _, entries in written for f in entries]
            try:
                if fresh:
                    self._publish(fresh)
            except Exception:  # stored but not sent: the courier delivers it later
                log.exception("outbox: publishing %d report(s) failed; queued", len(fresh))
                self._queue([str(r.report_id) for o, r in fresh if o.state != "sent"])
            for job, _ in written:
                job.done.set_result(job.outcomes)

    def _publish(self, fresh: list[tuple[Outcome, ReportSubmitted]]) -> None:
        ids = [str(r.report_id) for _, r in fresh]
        with self._order:
            # Older reports wait for the broker: a newer one must not overtake them (a
            # correction would otherwise arrive before the report it corrects).
            if self._held or self.outbox.count("queued"):
                self._queue(ids)
                return
            try:
                receipts = self.publisher.send([r for _, r in fresh])
            except PUBLISH_ERRORS as exc:
                log.warning("broker unreachable, %d report(s) queued: %s", len(ids), exc)
                self._queue(ids)
                return
            self.outbox.mark_sent_many(receipts)
        for (outcome, _), receipt in zip(fresh, receipts, strict=True):
            outcome.state, outcome.receipt = "sent", receipt

    def _queue(self, ids: list[str]) -> None:
        self.outbox.mark_queued(ids)
        if not self._held:
            self.courier.kick()


T = TypeVar("T")


def _take(source: queue.Queue[T | None], most: int, size: Callable[[T], int]) -> list[T] | None:
    """Block for one item, then take what else is waiting, up to ``most`` in all (None: stop)."""
    first = source.get()
    if first is None:
        return None
    items, total = [first], size(first)
    while total < most:
        try:
            more = source.get_nowait()
        except queue.Empty:
            break
        if more is None:
            source.put(None)  # stop after this batch
            break
        items.append(more)
        total += size(more)
    return items
