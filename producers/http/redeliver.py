"""Send again what the broker acknowledged but the warehouse never decided.

An acknowledged report (201) can still be lost: the embedded broker keeps messages in
memory, so if it dies before the stream decided them they are gone, behind receipts
that said Kafka had them. The outbox still has every one. So, on start, once the stream
and the sink have worked through what the broker held (``settle``), every sent report
the warehouse has no decision for is queued and sent again; after that, any report
still undecided ``Outbox.resend_after_s`` after its send is sent again (the wait
doubling each time), once the pipeline has caught up. A re-send is harmless: the stream
drops a report_id it has already decided. New submissions wait behind a recovery (202,
queued) so they never overtake the report they might correct
(``tests/integration/test_acknowledged.py``, ``tests/integration/test_api_rush.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from contract.logs import said
from producers.http.commit import GroupCommit
from producers.http.courier import Courier
from producers.http.models import Decision
from producers.http.outbox import Outbox

log = logging.getLogger(__name__)

#: Report ids per warehouse lookup.
CHUNK = 1000
#: How long a recovery retries a warehouse that does not answer before sending anyway.
LOOKUP_PATIENCE_S = 30.0

Decisions = Callable[[list[str]], dict[str, Decision]]


class Redelivery:
    """Recover on start, then re-send undecided reports as they age, in a background thread."""

    def __init__(
        self,
        outbox: Outbox,
        commits: GroupCommit,
        courier: Courier,
        decisions: Decisions,
        settle: Callable[[], bool] = lambda: True,
        interval_s: float = 5.0,
        on_tick: Callable[[], None] = lambda: None,
    ) -> None:
        self.outbox = outbox
        self.commits = commits
        self.courier = courier
        self.decisions = decisions
        self.settle = settle
        self.interval_s = interval_s
        self.on_tick = on_tick
        self.resent = 0
        self.recovered = threading.Event()  # set once the start's recovery is done
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Hold new submissions if there is anything to recover, then recover in the background."""
        if self.outbox.undecided(limit=1):
            self.commits.hold()
        self._thread = threading.Thread(target=self._run, name="outbox-redeliver", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def recover(self) -> int:
        """Queue every sent report still undecided once the pipeline has settled."""
        try:
            if not self.outbox.undecided(limit=1):
                return 0
            settled = self.settle()
            if not settled:
                log.warning(
                    "outbox: the stream or the sink did not catch up; re-sending anyway "
                    "(duplicates are dropped by report_id)"
                )
            resent = 0
            seen: set[str] = set()
            while batch := [i for i in self.outbox.undecided(limit=CHUNK) if i not in seen]:
                seen.update(batch)
                resent += self._resend(batch, patience=LOOKUP_PATIENCE_S)
            if resent:
                log.warning(
                    said(
                        "outbox: re-sending {n} acknowledged report(s) with no decision "
                        "in the warehouse.",
                        "Gửi lại {n} báo cáo đã nhận nhưng chưa có kết quả.",
                        n=resent,
                    )
                )
            return resent
        finally:
            self.commits.release()
            self.courier.start()
            self.courier.kick()
            self.recovered.set()  # last: once set, the courier is running

    def tick(self) -> int:
        """Re-send reports whose wait for a decision ran out; return how many.

        Only once the pipeline has caught up with the broker: a report still on its
        way is not lost, and re-sending into a stalled worker only adds to its backlog.
        """
        due = self.outbox.undecided(due_before=time.time(), limit=CHUNK)
        if not due:
            return 0
        if not self.settle():
            log.info("outbox: %d undecided report(s) wait: the pipeline is behind", len(due))
            return 0
        resent = self._resend(due, patience=0.0)
        if resent:
            log.warning(
                said(
                    "outbox: re-sending {n} report(s) still undecided after {s:.0f} s.",
                    "Gửi lại {n} báo cáo chưa có kết quả sau {s:.0f} giây.",
                    n=resent,
                    s=self.outbox.resend_after_s,
                )
            )
        return resent

    def _resend(self, ids: list[str], patience: float) -> int:
        deadline = time.monotonic() + patience
        while True:
            try:
                decided = self.decisions(ids)
                break
            except Exception as exc:  # the warehouse may be away; it is only a shortcut
                if time.monotonic() >= deadline:
                    if patience == 0.0:
                        log.info("outbox: warehouse lookup failed, will retry: %s", exc)
                        return 0
                    log.warning("outbox: warehouse lookup failed, re-sending anyway: %s", exc)
                    decided = {}
                    break
                time.sleep(1.0)
        self.outbox.mark_decided(decided)
        rest = [i for i in ids if i not in decided]
        count = self.commits.requeue(rest) if rest else 0
        self.resent += count
        if count:
            self.courier.kick()
        return count

    def _run(self) -> None:
        try:
            self.recover()
        except Exception:  # the service must keep taking reports; ticks retry
            log.exception("outbox: recovery failed")
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
                self.on_tick()
            except Exception:
                log.exception("outbox: re-send check failed; will retry")
