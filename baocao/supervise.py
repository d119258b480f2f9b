"""Keep `baocao up`'s children running: one that dies is started again, with backoff.

A dead worker, warehouse service or notifier used to stop the whole stack, the broker
with it, and the embedded broker forgets everything it held: reports acknowledged but
not yet decided were gone. Now only the broker's death stops the stack (and the outbox
re-sends what it had acknowledged, ``producers/http/redeliver.py``); any other child is
restarted after 1, 2, 4 … 30 s, with a line in both languages each time. A child that
keeps dying right after its start is given up on after ``MAX_QUICK_DEATHS`` tries
(``tests/integration/test_acknowledged.py``).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from contract.errors import BaocaoError

#: Children that finish their work and exit 0 (the demo's history, the live demo).
ONE_SHOT = frozenset({"demo", "live"})
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
#: A child that ran this long had a good run: its next death starts the backoff afresh.
STABLE_S = 60.0
MAX_QUICK_DEATHS = 8


class Supervised(Protocol):
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


class GaveUp(BaocaoError):
    """A child died right after each of its last starts."""


@dataclass
class _Restarts:
    started: float
    deaths: int = 0  # in a row, each soon after its start
    due: float | None = None  # when the next start is due, once the child died


class Supervisor:
    """Restart dead children with exponential backoff; say so on ``echo``."""

    def __init__(self, echo: Callable[[str], None], now: Callable[[], float] = time.monotonic):
        self.echo = echo
        self.now = now
        self.restarts = 0
        self._state: dict[str, _Restarts] = {}

    def check(
        self,
        children: Sequence[Supervised],
        respawn: Callable[[Supervised], subprocess.Popen[bytes]],
    ) -> None:
        """Schedule a restart for each child that died, and start those that are due."""
        now = self.now()
        for child in children:
            state = self._state.setdefault(child.name, _Restarts(started=now))
            code = child.proc.poll()
            if code is None:
                if now - state.started >= STABLE_S:
                    state.deaths = 0
                continue
            if code == 0 and child.name in ONE_SHOT:
                continue
            if state.due is None:
                state.deaths += 1
                if state.deaths > MAX_QUICK_DEATHS:
                    raise GaveUp(
                        f"{child.name} dừng ngay sau mỗi lần khởi động ({MAX_QUICK_DEATHS} lần) / "
                        f"{child.name} died right after each of its last {MAX_QUICK_DEATHS} "
                        f"starts; see {child.log}"
                    )
                delay = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (state.deaths - 1))
                state.due = now + delay
                self.echo(
                    f"{child.name} dừng với mã {code}; khởi động lại sau {delay:.0f} giây / "
                    f"{child.name} exited with code {code}; restarting in {delay:.0f} s "
                    f"(see {child.log})"
                )
            elif now >= state.due:
                child.proc = respawn(child)
                state.due, state.started = None, now
                self.restarts += 1
                self.echo(
                    f"{child.name} đã khởi động lại / {child.name} restarted, pid {child.proc.pid}"
                )
