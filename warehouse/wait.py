"""Open a ClickHouse server that may still be starting: retry until a deadline, saying so.

On a fresh `docker compose up` the clickhouse-server image first runs a temporary server
on 127.0.0.1 only (to create the database and user), then starts the real one on every
interface; meanwhile other containers get "connection refused", or no address for the
name yet. `init` and the warehouse service open the warehouse through here, so they wait
that out instead of failing, and tell the operator what they wait for and until when.
Only "not answering" is retried: a server that answers and refuses (a wrong password, a
bad setting) fails at once, since waiting would not change it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from clickhouse_connect.driver.exceptions import OperationalError

from contract.settings import Settings
from warehouse.client import Warehouse
from warehouse.errors import WarehouseUnavailable

log = logging.getLogger(__name__)

#: Longest pause between two attempts; the first is half a second, then it doubles.
MAX_PAUSE = 5.0
_REASON = re.compile(
    r"\[Errno -?\d+\] [^'\")]+|Failed to resolve '[^']+'|Connection reset by peer|timed out"
)


def not_answering(exc: WarehouseUnavailable) -> bool:
    """Is ``exc`` the server not answering (yet), rather than answering with a refusal?"""
    return isinstance(exc.__cause__, OperationalError | OSError)


def reason(exc: BaseException) -> str:
    """Return the short cause of a connection error (the driver's text is a paragraph)."""
    text = str(exc.__cause__ or exc)
    found = _REASON.search(text)
    return found.group(0) if found else text[:200]


def open_when_ready(
    settings: Settings,
    say: Callable[[str], object] = log.warning,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> Warehouse:
    """Open the warehouse; retry a server that does not answer, up to the deadline.

    The deadline is ``settings.warehouse_wait_seconds`` (0: one attempt). chDB runs in
    this process, so there is nothing to wait for: it is opened once.
    """
    wait = settings.warehouse_wait_seconds if settings.warehouse == "http" else 0.0
    deadline = clock() + wait
    where = settings.clickhouse_url
    attempt, pause = 0, 0.5
    while True:
        attempt += 1
        try:
            return Warehouse.connect(settings)
        except WarehouseUnavailable as exc:
            left = deadline - clock()
            if wait <= 0 or not not_answering(exc):
                raise
            if left <= 0:
                raise WarehouseUnavailable(
                    f"ClickHouse tại {where} không trả lời sau {wait:g} s"
                    f" (BAOCAO_WAREHOUSE_WAIT_SECONDS) / the ClickHouse server at {where}"
                    f" did not answer within {wait:g} s (BAOCAO_WAREHOUSE_WAIT_SECONDS):"
                    f" {reason(exc)}"
                ) from exc
            say(
                f"ClickHouse tại {where} chưa trả lời (lần {attempt}), thử lại trong tối đa"
                f" {left:.0f} s nữa / the ClickHouse server at {where} is not answering yet"
                f" (attempt {attempt}); retrying for up to {left:.0f} s more: {reason(exc)}"
            )
            sleep(min(pause, left))
            pause = min(pause * 2, MAX_PAUSE)
