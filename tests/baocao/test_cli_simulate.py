"""`baocao simulate` and `baocao registry-national` as an operator runs them (no broker)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

import producers.kafka
from baocao import cli_simulate
from baocao.cli import main
from contract.events import ReportSubmitted
from contract.registry import Registry


class RecordingProducer:
    """Stands in for ReportProducer: keeps what would have been published."""

    batches: ClassVar[list[list[ReportSubmitted]]] = []

    def __init__(self, settings: Any) -> None:
        pass

    def __enter__(self) -> RecordingProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, reports: Iterable[ReportSubmitted]) -> list[object]:
        RecordingProducer.batches.append(list(reports))
        return []


class FakeTime:
    """Stands in for the time module in cli_simulate: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("BAOCAO_BROKER", "127.0.0.1:1")
    for name in ("BAOCAO_REGISTRY_PATH", "BAOCAO_DATASETS_PATH", "BAOCAO_CLOCK_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    RecordingProducer.batches = []
    monkeypatch.setattr(producers.kafka, "ReportProducer", RecordingProducer)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    return invoke


def sent() -> list[ReportSubmitted]:
    return [r for batch in RecordingProducer.batches for r in batch]


def test_help_shows_examples_speed_and_scenarios(run: Any) -> None:
    result = run("simulate", "--help")
    assert result.exit_code == 0, result.output
    for text in ("Examples / Ví dụ", "--speed", "BAOCAO_CLOCK_FILE", "--dry-run", "--out"):
        assert text in result.output
    assert "thai-nguyen-2021-07-27" in result.output and "lang-son-2020-08" in result.output


def test_dry_run_plans_and_sends_nothing(run: Any) -> None:
    result = run("simulate", "--days", "3", "--end", "2021-07-27", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2021-07-25..2021-07-27" in result.output and "to accept" in result.output
    assert RecordingProducer.batches == []


def test_out_writes_json_lines_the_topic_accepts(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "tn.jsonl"
    result = run("simulate", "--scenario", "thai-nguyen-2021-07-27", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Tân Khánh" in result.output  # the scenario's title
    reports = [ReportSubmitted.model_validate_json(line) for line in out.read_bytes().splitlines()]
    assert str(len(reports)) in result.output
    tan_khanh = [r for r in reports if r.unit_id == "173" and str(r.report_date) == "2021-07-27"]
    assert tan_khanh and all(r.values["cases_community"] == 6 for r in tan_khanh)
    assert RecordingProducer.batches == []


def test_out_dash_keeps_stdout_for_the_reports(run: Any) -> None:
    result = run("simulate", "--days", "1", "--province", "20", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and all(json.loads(line)["unit_id"] for line in lines)
    assert {json.loads(line)["unit_id"] for line in lines} <= {
        u.unit_id for u in Registry.load().filter(province="20")
    }
    assert "submissions" in result.stderr


def test_without_flags_every_report_is_published(run: Any) -> None:
    result = run("simulate", "--days", "2", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "sent / đã gửi" in result.output
    again = run("simulate", "--days", "2", "--seed", "3", "--out", "-")
    assert [r.to_json() for r in sent()] == again.stdout_bytes.splitlines()


def test_speed_moves_the_shared_clock_and_publishes_in_time(
    run: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeTime()
    monkeypatch.setattr(cli_simulate, "time", fake)
    monkeypatch.setenv("BAOCAO_CLOCK_FILE", str(tmp_path / "clock"))
    result = run("simulate", "--days", "1", "--province", "19", "--speed", "3600")
    assert result.exit_code == 0, result.output
    reports = sent()
    assert reports and len(RecordingProducer.batches) > 1  # published as time passed
    last = max(r.submitted_at for r in reports)
    at_end = datetime.fromisoformat((tmp_path / "clock").read_text("utf-8"))
    assert at_end > last and at_end.hour >= 15  # past the deadline and the last report
    # From 08:00 to the end at 3600x: an hour of simulated time per second.
    hours = (at_end - at_end.replace(hour=8, minute=0, second=0, microsecond=0)).seconds / 3600
    assert fake.now == pytest.approx(hours, abs=0.3)


def test_speed_needs_the_clock_file_and_a_broker(run: Any) -> None:
    result = run("simulate", "--days", "1", "--speed", "60")
    assert result.exit_code == 2 and "BAOCAO_CLOCK_FILE" in result.output
    result = run("simulate", "--days", "1", "--speed", "60", "--dry-run")
    assert result.exit_code == 2 and "--dry-run" in result.output
    assert RecordingProducer.batches == []


def test_bad_input_is_refused_clearly(run: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n', encoding="utf-8")
    result = run("simulate", "--scenario", str(bad), "--dry-run")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "không hợp lệ / scenario" in result.output and "Field required" in result.output
    result = run("simulate", "--province", "99", "--dry-run")
    assert (
        result.exit_code == 2 and "99" in result.output and "not in the registry" in result.output
    )
    result = run("simulate", "--end", "27/07/2021", "--dry-run")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_registry_national_writes_a_loadable_registry(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "national.json"
    result = run(
        "registry-national",
        "--hierarchy",
        "2025",
        "--synthetic-checkpoints",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    registry = Registry.load(out)
    assert len(registry) == 34 + 3_321 + 34
    assert "3,321 commune" in result.output
    refused = run("registry-national", "--hierarchy", "2025", "--reporting-level", "district",
                  "--out", str(out))  # fmt: skip
    assert refused.exit_code == 1 and "no districts" in refused.output


def test_a_registry_with_nobody_to_report_on_those_days_is_pointed_out(
    run: Any, tmp_path: Path
) -> None:
    from contract.registry_build import build_registry
    from contract.registry_national import assignments

    path = tmp_path / "tn-2025.json"
    build_registry(["19"], hierarchy="2025", assignments=assignments("commune")).dump(path)
    result = run("simulate", "--registry", str(path), "--days", "1", "--dry-run")
    assert result.exit_code == 0 and "no unit of this registry (2025)" in result.stderr
    assert "2025-07-01" in result.stderr
    later = run("simulate", "--registry", str(path), "--end", "2025-07-02", "--days", "1",
                "--dry-run")  # fmt: skip
    assert later.exit_code == 0 and "no unit" not in later.stderr
    assert int(later.stdout.split()[1]) > 0  # "simulate: N submissions ..."
