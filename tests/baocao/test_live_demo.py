"""`baocao up`'s live demo: where its clock starts, on a first start and after a restart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from baocao.runner import _live_demo
from contract.clock import FileClock
from contract.settings import Settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def start(tmp_path: Path) -> tuple[str, datetime]:
    env, args = _live_demo(Settings(), tmp_path, 300.0)
    assert env == {"BAOCAO_CLOCK_FILE": str(tmp_path.resolve() / "clock")}
    assert args[-2:] == ["--speed", "300.0"] and args[3:5] == ["--end", "2021-08-26"]
    return args[2], FileClock(tmp_path / "clock").now()


def test_a_first_start_plays_from_the_day_after_the_history(tmp_path: Path) -> None:
    assert start(tmp_path) == ("2021-07-28", datetime(2021, 7, 28, tzinfo=TZ))


def test_a_restart_carries_on_from_the_day_the_clock_reached(tmp_path: Path) -> None:
    FileClock(tmp_path / "clock").set(datetime(2021, 8, 3, 16, 20, tzinfo=TZ))
    assert start(tmp_path) == ("2021-08-03", datetime(2021, 8, 3, tzinfo=TZ))


def test_after_the_last_day_or_with_a_broken_clock_it_begins_again(tmp_path: Path) -> None:
    FileClock(tmp_path / "clock").set(datetime(2021, 8, 26, 23, 0, tzinfo=TZ))
    assert start(tmp_path)[0] == "2021-07-28"
    (tmp_path / "clock").write_text("not an instant")
    assert start(tmp_path)[0] == "2021-07-28"
