"""Every command of one stack lives on the same clock: BAOCAO_CLOCK_FILE when it is set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from baocao import context
from contract.clock import FileClock, ManualClock
from contract.settings import Settings

DEMO = datetime(2021, 7, 28, 14, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_the_clock_file_sets_every_commands_now(tmp_path: Path) -> None:
    FileClock(tmp_path / "clock").set(DEMO)
    ctx = context.load(Settings(clock_file=tmp_path / "clock"))
    assert ctx.clock.now() == DEMO
    FileClock(tmp_path / "clock").set(DEMO.replace(hour=15))  # the demo moves on
    assert ctx.clock.now() == DEMO.replace(hour=15)


def test_without_a_clock_file_it_is_the_system_clock() -> None:
    now = context.load(Settings(clock_file=None)).clock.now()
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5


def test_a_clock_given_by_the_caller_wins(tmp_path: Path) -> None:
    FileClock(tmp_path / "clock").set(DEMO)
    given = ManualClock(datetime(2022, 1, 1, tzinfo=UTC))
    ctx = context.load(Settings(clock_file=tmp_path / "clock"), clock=given)
    assert ctx.clock.now() == datetime(2022, 1, 1, tzinfo=UTC)
