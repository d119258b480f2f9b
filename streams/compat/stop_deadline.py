"""A worker asked to stop is gone within a bounded time, whatever its stop waits on.

Faust's stop commits the consumer's offsets first, and aiokafka retries that commit
until a group coordinator answers (the same endless coordinator loop as
aio-libs/aiokafka#659 in ``Consumer.stop``). With the broker gone as well, it never
does: a killed `baocao up` sends SIGTERM to every child at once, and a worker stopped
mid-drain after its broker had died waited for ever in ``App._stop_consumer`` →
``Consumer.commit``, outliving its runner. Cutting the stop short loses nothing:
results are published before their offsets are committed, so input the stop could
not commit is read again by the next worker (at-least-once, idempotent downstream).
Shown by tests/integration/test_worker_stop.py; it can go when a commit during stop
gives up once no broker answers.
"""

from __future__ import annotations

from typing import Any

import faust

from contract.stop_deadline import EXIT_STOP_TIMED_OUT, StopDeadline
from streams.compat import liveness

__all__ = ["EXIT_STOP_TIMED_OUT", "HOOKS", "worker"]

#: The Worker methods ``worker`` overrides to arm the deadline (None when gone).
HOOKS = {
    f"faust.Worker.{name}": getattr(faust.Worker, name, None)
    for name in ("_on_sigint", "_on_sigterm", "on_worker_shutdown")
}


def worker(app: faust.App, stop_seconds: float, **kwargs: Any) -> faust.Worker:
    """A ``faust.Worker`` whose stop, by signal or after a crash, ends in ``stop_seconds``."""

    def where() -> str:  # every task of the worker's loop, and every thread
        return liveness.task_stacks([runner.loop])

    deadline = StopDeadline(stop_seconds, where)

    class BoundedStopWorker(faust.Worker):
        def _on_sigint(self) -> None:
            deadline.arm()
            super()._on_sigint()

        def _on_sigterm(self) -> None:
            deadline.arm()
            super()._on_sigterm()

        def on_worker_shutdown(self) -> None:  # any way out: a crash stops the app too
            deadline.arm()
            super().on_worker_shutdown()

    runner = BoundedStopWorker(app, **kwargs)
    return runner
