"""Deciding comes first: the signal agent waits while the decision agent is behind.

Both agents share the worker's event loop. In the rush before 15:00 the submissions can
queue up faster than one worker decides them with signals on, and every batch the signal
agent evaluates then delays the decisions, and with them the missing alerts: the
deadline barrier waits until what was sent before 15:00 is decided (streams/barrier.py).
So before each batch the signal agent asks how many submissions its worker has fetched,
or could fetch, and not decided yet (the consumer's highwater marks against the next
offset to decide), and waits while that is more than ``behind``, at most ``max_wait``
seconds a batch: signals are put off in a rush, never starved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: The highwater mark of a partition of the submissions topic, as the worker's consumer
#: last saw it (None: not known, e.g. not assigned to this worker).
Highwater = Callable[[int], int | None]

#: Submissions waiting before the signal agent steps aside: a second of a busy province
#: at the worker's ordinary pace, far above what waits at a steady 100 reports/s.
BEHIND = 100
#: Longest a batch of signals waits for the decisions to catch up.
MAX_WAIT_S = 5.0
POLL_S = 0.02


class DecisionLag:
    """How far the decision agent is behind the ends of its partitions."""

    def __init__(self, highwater: Highwater, behind: int = BEHIND) -> None:
        self._highwater = highwater
        self.behind = behind
        self._next: dict[int, int] = {}  # partition -> next offset to decide

    def decided(self, partition: int, offset: int) -> None:
        self._next[partition] = offset + 1

    def reset(self) -> None:
        """Forget the partitions: a new assignment starts from the committed offsets."""
        self._next.clear()

    def lag(self) -> int:
        """Submissions in the worker's partitions not decided yet (0 when unknown)."""
        out = 0
        for partition, next_offset in self._next.items():
            end = self._highwater(partition)
            if end is not None:
                out += max(0, end - next_offset)
        return out

    async def wait_for_decisions(self, max_wait: float = MAX_WAIT_S) -> float:
        """Wait while more than ``behind`` submissions wait, at most ``max_wait`` s; the
        time waited."""
        t0 = time.monotonic()
        while self.lag() > self.behind and time.monotonic() - t0 < max_wait:
            await asyncio.sleep(POLL_S)
        return time.monotonic() - t0
