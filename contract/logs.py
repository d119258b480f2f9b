"""Structured logs: one JSON object per line, with the fields passed in ``extra=``.

``BAOCAO_LOG_FORMAT=json`` turns it on for every process. A log call that concerns a
report passes ``extra={"unit_id": ..., "report_id": ...}`` so a log search finds every
line about one unit or one report.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

#: Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Said:
    """One log line in English and Vietnamese, each value given once (``said``).

    Formatted only when a handler emits it (``logging`` calls ``str`` on a message
    object then), as ``%``-arguments are: a filtered-out line costs nothing.
    """

    __slots__ = ("en", "values", "vi")

    def __init__(self, en: str, vi: str, values: dict[str, object]) -> None:
        self.en, self.vi, self.values = en, vi, values

    def __str__(self) -> str:
        return f"{self.en.format_map(self.values)} {self.vi.format_map(self.values)}"


def said(en: str, vi: str, /, **values: object) -> Said:
    """``log.warning(said("partition {p}: …", "Phân vùng {p}: …", p=3))``."""
    return Said(en, vi, values)


class JsonFormatter(logging.Formatter):
    """Format a record as JSON: time, level, logger, message, then every extra field."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def wanted_format() -> str:
    """The log format the environment asks for (read before settings are loaded)."""
    return os.environ.get("BAOCAO_LOG_FORMAT", "text").strip().lower()


def make_handler(fmt: str) -> logging.Handler:
    """A stderr handler in the given format: ``json`` or anything else for text."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def faust_logging_config() -> dict[str, Any]:
    """A ``logging_config`` for Faust's worker, which replaces the root handlers on start."""
    return {
        "version": 1,
        "merge": True,  # keep Faust's level and root logger, swap the handler's format
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
    }


#: aiokafka's loggers that repeat one line per retry while the broker is down.
KAFKA_RETRY_LOGGERS = (
    "aiokafka",  # its client's logger (aiokafka/client.py), not "aiokafka.client"
    "aiokafka.cluster",
    "aiokafka.conn",
    "aiokafka.consumer.fetcher",
    "aiokafka.consumer.group_coordinator",
    "aiokafka.producer.sender",
)


class RepeatLimit(logging.Filter):
    """Lets one record per logger and message through every ``seconds``; counts the rest.

    While the broker is down aiokafka retries without pause and logs each try
    (aio-libs/aiokafka#830 and #1020, open): thousands of lines a second ("Unable
    connect to node", "Unable to update metadata") would fill a disk in an outage of
    hours. The first line of a kind still shows at once, and the next one says how
    many were held back. Applied by ``streams.compat`` (``log_repeats``); shown by
    tests/contract/test_logs.py.
    """

    def __init__(self, seconds: float = 30.0, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.seconds = seconds
        self.now = now
        self._last: dict[tuple[str, object], tuple[float, int]] = {}  # shown at, held back
        self._lock = threading.Lock()  # Faust's consumer logs from a thread of its own

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = (record.name, record.msg), self.now()
        with self._lock:
            shown = self._last.get(key)
            if shown is not None and now - shown[0] < self.seconds:
                self._last[key] = (shown[0], shown[1] + 1)
                return False
            self._last[key] = (now, 0)
        if shown is not None and shown[1]:
            record.msg = (
                f"{record.msg} [{shown[1]} more like this in {self.seconds:g} s not logged; "
                f"{shown[1]} dòng tương tự trong {self.seconds:g} giây không ghi]"
            )
        return True


def limit_repeats(names: Iterable[str] = KAFKA_RETRY_LOGGERS, seconds: float = 30.0) -> None:
    """Put one ``RepeatLimit`` on each logger named (idempotent: replaces an earlier one)."""
    for name in names:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RepeatLimit)]:
            logger.removeFilter(old)
        logger.addFilter(RepeatLimit(seconds))
