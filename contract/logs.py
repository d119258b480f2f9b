"""Structured logs: one JSON object per line, with the fields passed in ``extra=``.

``BAOCAO_LOG_FORMAT=json`` turns it on for every process. A log call that concerns a
report passes ``extra={"unit_id": ..., "report_id": ...}`` so a log search finds every
line about one unit or one report.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

#: Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
