"""A process asked to stop is gone within a bounded time, whatever its stop waits on.

A stream worker's stop commits offsets (streams/compat/stop_deadline.py), and the
warehouse service's sink commits too; with the broker gone a commit never ends, and a
killed `baocao up` stops every child at once. Cutting a stop short loses nothing:
output is published or written before its offsets are committed, so what the stop
could not commit is read again (at-least-once, idempotent downstream).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from contract.logs import said

log = logging.getLogger(__name__)


#: Exit status of a stop cut short (as `timeout` uses: the command ran out of time).
EXIT_STOP_TIMED_OUT = 124


class StopDeadline:
    """Once armed, ends the process after ``seconds`` unless it has ended by itself."""

    def __init__(
        self,
        seconds: float,
        describe: Callable[[], str] = lambda: "",
        exit: Callable[[int], Any] = os._exit,
        who: tuple[str, str] = ("worker", "Worker"),
    ) -> None:
        self.seconds = seconds
        self.who = who  # the process, in English and in Vietnamese, for the log
        self.describe = describe  # where the stop waits, for the log
        self.exit = exit
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self) -> None:
        """Start the clock (once; later calls keep the first deadline). 0 never ends it."""
        with self._lock:
            if self._timer is not None or self.seconds <= 0:
                return
            # A daemon thread: a stop that finishes in time exits without waiting for it.
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        log.error(
            said(
                "{en} stop did not finish in {s:g} s; exiting now (uncommitted input is "
                "read again when it starts).",
                "{vi} không dừng xong sau {s:g} giây; thoát ngay (dữ liệu chưa commit sẽ "
                "được đọc lại).",
                en=self.who[0],
                vi=self.who[1],
                s=self.seconds,
            )
        )
        try:
            log.warning("where the stop waited:\n%s", self.describe())
        except Exception:  # the loop's tasks change under us: the exit matters more
            log.warning("where the stop waited: could not tell", exc_info=True)
        logging.shutdown()
        self.exit(EXIT_STOP_TIMED_OUT)


def thread_stacks() -> str:
    """Where every thread of this process is waiting, as text for the log."""
    return "".join(
        f"thread {ident}:\n{''.join(traceback.format_stack(frame, limit=15))}"
        for ident, frame in sys._current_frames().items()
    )
