"""Structured logs: one JSON object per line, and the ids of a rejected report in it."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from datetime import datetime

import pytest

from contract import logs
from contract.settings import Settings
from streams.app import faust_settings
from tests.unit.test_processor import Harness


def emit(formatter: logging.Formatter, **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.logs.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("đơn vị %s bị từ chối", "173", extra=extra)
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed", extra=extra)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_carry_time_level_logger_message_and_extra_fields() -> None:
    out = emit(logs.JsonFormatter(), unit_id="173", report_id="r-1", dataset="district-daily")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["message"] == "đơn vị 173 bị từ chối"  # Vietnamese kept readable
    assert "\\u" not in out.splitlines()[0]
    assert first["level"] == "WARNING" and first["logger"].startswith("test.logs.")
    assert (first["unit_id"], first["report_id"], first["dataset"]) == (
        "173",
        "r-1",
        "district-daily",
    )
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert "ValueError: boom" in second["exception"] and second["unit_id"] == "173"
    assert not {"args", "msg", "levelno", "pathname"} & first.keys()  # no LogRecord noise


def test_text_stays_the_default_and_json_is_chosen_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BAOCAO_LOG_FORMAT", raising=False)
    assert not isinstance(logs.make_handler(logs.wanted_format()).formatter, logs.JsonFormatter)
    monkeypatch.setenv("BAOCAO_LOG_FORMAT", "json")
    assert isinstance(logs.make_handler(logs.wanted_format()).formatter, logs.JsonFormatter)
    assert Settings(_env_file=None).log_format == "json"  # type: ignore[call-arg]


def test_the_faust_worker_gets_a_json_logging_config() -> None:
    text = faust_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "logging_config" not in text
    conf = faust_settings(Settings(_env_file=None, log_format="json"))["logging_config"]  # type: ignore[call-arg]
    # Build the formatter the way logging.config will when the worker starts.
    spec = dict(conf["formatters"]["json"])
    formatter = logging.config.DictConfigurator(conf).configure_formatter(spec)
    assert isinstance(formatter, logs.JsonFormatter)
    assert conf["handlers"]["default"]["formatter"] == "json"


def test_a_rejected_report_is_logged_with_its_unit_and_report_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    body = {
        "schema": "baocao.report/v1",
        "report_id": "7d4f9c1e-0000-4000-8000-000000000001",
        "dataset": "district-daily",
        "unit_id": "NOPE-1",
        "report_date": "2021-07-27",
        "submitted_at": "2021-07-27T09:00:00+07:00",
        "submitted_by": "test",
        "values": {"cases_new": 1},
    }
    with caplog.at_level(logging.INFO, logger="streams.processor"):
        h.feed(json.dumps(body).encode())
    (record,) = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert record.__dict__["unit_id"] == "NOPE-1"
    assert record.__dict__["report_id"] == body["report_id"]
    assert record.__dict__["rules"]  # which rules refused it
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["unit_id"] == "NOPE-1" and line["report_id"] == body["report_id"]
