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
from tests.streams.test_processor import Harness


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


def test_a_retry_repeated_during_an_outage_is_logged_once_per_window_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    name = "aiokafka"
    logger = logging.getLogger(name)
    limit = logs.RepeatLimit(30.0, now=lambda: clock[0])
    # Only this test's filter: an app built by an earlier test (create_app) left one
    # on the real clock, which would hold back the line after the window.
    saved, logger.filters = logger.filters, [limit]
    try:
        with caplog.at_level(logging.ERROR, logger=name):
            for _ in range(1000):  # one retry a millisecond, as aiokafka does
                logger.error("Unable connect to node with id %s: %s", 1, "refused")
                clock[0] += 0.001
            logger.error("Unable to update metadata from %s", [1])  # another kind: shown
            clock[0] = 31.0
            logger.error("Unable connect to node with id %s: %s", 1, "refused")
    finally:
        logger.filters = saved
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Unable connect to node with id 1: refused",
        "Unable to update metadata from [1]",
        "Unable connect to node with id 1: refused [999 more like this in 30 s not logged; "
        "999 dòng tương tự trong 30 giây không ghi]",
    ]


def test_limit_repeats_puts_one_filter_on_each_logger_however_often_it_is_called() -> None:
    logs.limit_repeats(["baocao.test.noisy"], 5.0)
    logs.limit_repeats(["baocao.test.noisy"], 5.0)  # a worker's create_app runs per app
    noisy = logging.getLogger("baocao.test.noisy")
    assert [type(f) for f in noisy.filters] == [logs.RepeatLimit]


def test_a_bilingual_line_takes_each_value_once_and_formats_only_when_emitted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    class Counted:
        def __format__(self, spec: str) -> str:
            calls.append(1)
            return format(7.25, spec)

    log = logging.getLogger("t-said")
    with caplog.at_level(logging.ERROR, logger="t-said"):
        log.warning(logs.said("waited {s:.0f} s", "chờ {s:.0f} giây", s=Counted()))
        assert calls == []  # filtered out: never formatted
        log.error(logs.said("waited {s:.0f} s on {p}", "chờ {s:.0f} giây ở {p}", s=Counted(), p=3))
    assert caplog.messages == ["waited 7 s on 3 chờ 7 giây ở 3"]
    assert calls  # formatted by each handler that emitted it
