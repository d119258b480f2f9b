"""A stop that cannot finish ends the process on time, once, and says why."""

from __future__ import annotations

import logging
import threading

import pytest

from contract.stop_deadline import EXIT_STOP_TIMED_OUT, StopDeadline


def test_an_armed_deadline_exits_once_with_its_code_and_says_where_it_waited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exits: list[int] = []
    done = threading.Event()

    def exit(code: int) -> None:
        exits.append(code)
        done.set()

    deadline = StopDeadline(0.2, describe=lambda: "task consumer.commit", exit=exit)
    with caplog.at_level(logging.WARNING):
        deadline.arm()
        deadline.arm()  # a second signal keeps the first deadline
        assert done.wait(10)
        done.clear()
        assert not done.wait(0.5)  # and does not start a second clock
    assert exits == [EXIT_STOP_TIMED_OUT]
    text = caplog.text
    assert "did not finish in 0.2 s" in text and "không dừng xong" in text
    assert "task consumer.commit" in text


def test_an_unarmed_or_unlimited_deadline_never_exits() -> None:
    exits: list[int] = []
    StopDeadline(0.05, exit=exits.append)  # never armed: the worker is running
    unlimited = StopDeadline(0, exit=exits.append)
    unlimited.arm()
    assert not unlimited.armed
    threading.Event().wait(0.3)
    assert exits == []


def test_a_describe_that_fails_does_not_stop_the_exit() -> None:
    exits: list[int] = []
    done = threading.Event()

    def broken() -> str:
        raise RuntimeError("Set changed size during iteration")

    deadline = StopDeadline(0.05, describe=broken, exit=lambda c: (exits.append(c), done.set()))
    deadline.arm()
    assert done.wait(10)
    assert exits == [EXIT_STOP_TIMED_OUT]
