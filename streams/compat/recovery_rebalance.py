"""A rebalance during a table recovery starts the recovery again, not a crash.

Faust's recovery builds each changelog partition's start offset, reads the active
ones, then seeks the standby ones (``Recovery._restart_recovery`` and
``_seek_offsets`` in faust/tables/recovery.py). A rebalance that lands in between
replaces the standby partitions with the new assignment, each with no offset yet
(``Recovery._add`` sets None), and signals the recovery to start again. The standby
seek then hands aiokafka ``None``; ``AIOKafkaConsumer.seek`` raises ``ValueError:
Offset must be a positive integer`` at once, before Faust looks at its own signal, and
the worker crashes (the signals rebalance test on Kafka: tests/integration/
test_signals.py; no upstream report found). With ``install``, a seek asked while a
new recovery is signalled raises Faust's own ``RebalanceAgain``, which its loop
answers by starting over with the new assignment (tests/streams/
test_recovery_rebalance.py shows the crash and the restart). It can go when Faust
checks its signal before seeking.
"""

from __future__ import annotations

import logging
from typing import Any

from faust.tables import recovery as faust_recovery

from contract.logs import said

log = logging.getLogger(__name__)

_seek_offsets: Any = getattr(faust_recovery.Recovery, "_seek_offsets", None)
_rebalance_again: Any = getattr(faust_recovery, "RebalanceAgain", None)

#: What ``install`` replaces or uses (None when the installed Faust lacks it).
HOOKS = {
    "faust.tables.recovery.Recovery._seek_offsets": _seek_offsets,
    "faust.tables.recovery.RebalanceAgain": _rebalance_again,
}


async def _seek_unless_rebalanced(
    self: Any, consumer: Any, tps: Any, offsets: Any, title: str
) -> None:
    if self.signal_recovery_start.is_set():
        # Invariant: the offsets were built for an assignment that is gone.
        log.info(
            said(
                "a rebalance came during table recovery ({title} seek); recovering again.",
                "Phân bổ lại phân vùng khi đang khôi phục bảng; khôi phục lại.",
                title=title,
            )
        )
        raise _rebalance_again()
    await _seek_offsets(self, consumer, tps, offsets, title)


def install(on: bool = True) -> None:
    """Make recovery seeks give way to a newer rebalance (``on``), or restore Faust's."""
    faust_recovery.Recovery._seek_offsets = (  # type: ignore[method-assign]
        _seek_unless_rebalanced if on else _seek_offsets
    )
