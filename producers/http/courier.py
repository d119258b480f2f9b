"""Deliver queued submissions from the outbox in a background thread, oldest first."""

from __future__ import annotations

import logging
import threading

from producers.http.models import Publisher
from producers.http.outbox import PUBLISH_ERRORS, Outbox

log = logging.getLogger(__name__)

#: Reports per delivery; a full batch means more may be waiting.
BATCH = 500


class Courier:
    """Send queued submissions whenever the broker answers, in arrival order."""

    def __init__(self, outbox: Outbox, publisher: Publisher, interval_s: float = 2.0) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.interval_s = interval_s
        self.delivered = 0
        self._sending = threading.Lock()  # one delivery at a time, or a row goes out twice
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="outbox-courier", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Try now instead of at the next interval (a new row was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def deliver_once(self) -> int:
        """Send one batch of queued submissions; return how many the broker confirmed."""
        with self._sending:
            batch = self.outbox.queued(BATCH)
            if not batch:
                return 0
            try:
                receipts = self.publisher.send(batch)
            except PUBLISH_ERRORS as exc:
                log.info("outbox: broker still unreachable (%d queued): %s", len(batch), exc)
                return 0
            self.outbox.mark_sent_many(receipts)
            self.delivered += len(receipts)
            log.info("outbox: delivered %d queued report(s)", len(receipts))
            return len(receipts)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while self.deliver_once() >= BATCH:  # a full batch: more may be waiting
                    pass
            except Exception:  # the courier must outlive any surprise; the row stays queued
                log.exception("outbox: delivery failed; will retry")
            self._wake.wait(self.interval_s)
            self._wake.clear()
