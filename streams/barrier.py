"""Missing alerts wait until the submissions sent before the deadline have been decided.

The deadline watch reads ticks from its own topic while the submissions queue on
``reports.submitted``: at 15:00 a unit whose report left at 14:59:59 may still sit
in that queue, and a look at the ledger would call it missing (the deadline-burst
benchmark saw 85 such false alarms among 10,045 units). So when a partition's tick
first passes a deadline, the barrier notes where that partition's submissions end
(a fresh end offset from the broker); the partition's missing alerts and counts
wait until this worker has decided everything before that offset. Everything sent
before the deadline was appended before the note, so none of it is judged missing;
what arrives later is late anyway. A partition that cannot catch up in ``max_wait``
seconds is looked at regardless, with a warning: alerts may come late, never not at all.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from contract.logs import said

log = logging.getLogger(__name__)

#: The broker's end offset of a partition of the submissions topic.
EndOffset = Callable[[int], Awaitable[int]]
#: The first offset of a partition the consumer group has not committed (None: unknown).
Committed = Callable[[int], int | None]


class DeadlineBarrier:
    """Per partition and deadline: has this worker decided what came before it?"""

    def __init__(self, end_offset: EndOffset, committed: Committed, max_wait: float) -> None:
        self._end_offset = end_offset
        self._committed = committed
        self.max_wait = max_wait
        self._decided: dict[int, int] = {}  # partition -> next offset to decide
        self._marks: dict[tuple[int, datetime], tuple[int, float]] = {}  # -> (end, since)
        self._passed: set[tuple[int, datetime]] = set()

    async def _end_of(self, partition: int) -> int:
        try:
            return await self._end_offset(partition)
        except Exception as exc:  # the broker did not answer: wait out max_wait instead
            log.warning(
                said(
                    "partition {p}: end of the submissions unknown ({exc}); missing units "
                    "are judged in {s:.0f} s.",
                    "Phân vùng {p}: không rõ vị trí cuối ({exc}); xét đơn vị thiếu báo cáo "
                    "sau {s:.0f} giây.",
                    p=partition,
                    exc=exc,
                    s=self.max_wait,
                )
            )
            return sys.maxsize

    def decided(self, partition: int, offset: int) -> None:
        """The submission at ``offset`` has been decided (accepted, rejected or set aside)."""
        if offset >= self._decided.get(partition, 0):
            self._decided[partition] = offset + 1

    def position(self, partition: int) -> int:
        """A lower bound of the next offset this worker will decide on ``partition``."""
        return max(self._decided.get(partition, 0), self._committed(partition) or 0)

    async def passed(self, partition: int, deadlines: Iterable[datetime]) -> bool:
        """Whether ``partition`` has decided every submission sent before each deadline."""
        waiting = [d for d in deadlines if (partition, d) not in self._passed]
        if not waiting:
            return True
        if len(self._passed) > 1024:  # a few deadlines a day are ever live
            self._passed.clear()
        at, now, ok = self.position(partition), time.monotonic(), True
        for deadline in waiting:
            key = (partition, deadline)
            if key not in self._marks:
                self._marks[key] = (await self._end_of(partition), now)
            end, since = self._marks[key]
            if at < end and now - since <= self.max_wait:
                ok = False
                continue
            if at < end:
                left = "?" if end == sys.maxsize else str(end - at)
                log.warning(
                    said(
                        "partition {p}: {n} submission(s) sent before the {at} deadline "
                        "still undecided after {s:.0f} s; judging missing units now.",
                        "Phân vùng {p}: còn {n} báo cáo gửi trước hạn {at} chưa xử lý sau "
                        "{s:.0f} giây; xét đơn vị thiếu báo cáo ngay.",
                        p=partition,
                        n=left,
                        at=deadline.isoformat(),
                        s=self.max_wait,
                    )
                )
            del self._marks[key]
            self._passed.add(key)
        return ok
