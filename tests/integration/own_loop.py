"""Run a coroutine to its end in a thread of its own.

A session's browser (Playwright) or an earlier test can leave an event loop running
in the main thread, where ``asyncio.run`` refuses to start another.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a new thread; its exception is raised here."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    if error:
        raise error[0]
    return result[0]
