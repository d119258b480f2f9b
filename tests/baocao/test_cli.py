"""The ``baocao`` command as a submitter or operator uses it (no broker is ever reached)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

import producers.kafka
from baocao.cli import main
from baocao.cli_reports import SUBMIT_EXAMPLE
from contract.events import ReportSubmitted, json_schemas
from contract.registry import Registry, UnitKind

REPO = Path(__file__).resolve().parents[2]
COMMITTED_SCHEMAS = REPO / "docs" / "schemas"
FLAGS = [
    "submit",
    "--dataset",
    "district-daily",
    "--unit",
    "173",
    "--date",
    "2021-07-27",
    "--by",
    "tester",
]


class FakeProducer:
    """Stands in for ReportProducer: records what would have been sent."""

    sent: ClassVar[list[ReportSubmitted]] = []

    def __init__(self, settings: Any) -> None:
        pass

    def __enter__(self) -> FakeProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, reports: Iterable[ReportSubmitted]) -> list[producers.kafka.Receipt]:
        batch = list(reports)
        FakeProducer.sent.extend(batch)
        return [
            producers.kafka.Receipt(
                str(r.report_id),
                r.unit_id,
                r.dataset,
                r.report_date.isoformat(),
                "reports.submitted",
                0,
                n,
            )
            for n, r in enumerate(batch)
        ]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Invoke the CLI in a clean directory, with a broker address nothing listens on."""
    monkeypatch.setenv("BAOCAO_BROKER", "127.0.0.1:1")
    for name in ("BAOCAO_REGISTRY_PATH", "BAOCAO_DATASETS_PATH", "BAOCAO_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    FakeProducer.sent = []
    monkeypatch.setattr(producers.kafka, "ReportProducer", FakeProducer)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    return invoke


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- units -------------------------------------------------------------------------------


def test_units_lists_the_lang_son_checkpoints(run: Any) -> None:
    result = run("units", "--province", "20", "--kind", "checkpoint")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["CP-20-01", "CP-20-02", "CP-20-03"]
    assert all("checkpoint-daily" in line and "189" in line for line in lines)
    assert "3 units" in result.stderr


def test_units_json_is_machine_readable(run: Any) -> None:
    result = run("units", "--json", "--province", "19", "--kind", "district")
    assert result.exit_code == 0, result.output
    units = json.loads(result.stdout)
    by_id = {u["unit_id"]: u for u in units}
    assert by_id["173"]["name"] == "Huyện Phú Bình"
    assert {u["kind"] for u in units} == {"district"}
    assert {u["province_id"] for u in units} == {"19"}
    assert len(units) == 9


def test_units_active_on_hides_abolished_districts(run: Any) -> None:
    before = json.loads(
        run(
            "units", "--json", "--province", "19", "--kind", "district", "--active-on", "2025-06-30"
        ).stdout
    )
    after = json.loads(
        run(
            "units", "--json", "--province", "19", "--kind", "district", "--active-on", "2025-07-01"
        ).stdout
    )
    assert len(before) == 9 and after == []


# --- submit ------------------------------------------------------------------------------


def test_submit_dry_run_with_flags_checks_and_sends_nothing(run: Any) -> None:
    result = run(
        *FLAGS,
        "--value",
        "cases_new=3",
        "--value",
        "tests_pcr=420",
        "--value",
        "tests_pcr_positive=3",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "1 report(s) valid" in result.stdout and "nothing sent" in result.stdout
    assert FakeProducer.sent == []


def test_the_documented_example_is_accepted(run: Any) -> None:
    lines = SUBMIT_EXAMPLE.splitlines()
    start = next(i for i, line in enumerate(lines) if "baocao submit --dataset" in line)
    command = ""
    for line in lines[start:]:
        command += line.strip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            break
    args = shlex.split(command)[1:]  # drop "baocao"
    result = run(*args, "--by", "tester", "--dry-run")
    assert result.exit_code == 0, result.output


def test_submit_sends_and_prints_a_receipt_with_warnings(run: Any) -> None:
    result = run(
        *FLAGS,
        "--value",
        "tests_pcr_positive=2",
        "--report-id",
        "0b6c43a4-4b5b-4a43-9d1e-5f7f6a3c2e10",
    )
    assert result.exit_code == 0, result.output
    assert [str(r.report_id) for r in FakeProducer.sent] == ["0b6c43a4-4b5b-4a43-9d1e-5f7f6a3c2e10"]
    assert FakeProducer.sent[0].submitted_by == "tester"
    assert "report_id=0b6c43a4-4b5b-4a43-9d1e-5f7f6a3c2e10" in result.stdout
    assert "Report RT-PCR tests and RT-PCR positives together." in result.stdout


def test_submit_negative_count_is_refused_in_both_languages(run: Any) -> None:
    result = run(*FLAGS, "--value", "cases_new=-1", "--dry-run")
    assert result.exit_code == 2
    assert "Report refused" in result.stderr
    assert "không được là số âm" in result.stderr
    assert "must not be negative" in result.stderr
    assert "values.cases_new" in result.stderr


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        ("cases_new", "dùng dạng KEY=N", "use KEY=N"),
        ("cases_new=ba", "phải là số nguyên", "must be a whole number"),
        ("cases_neww=1", "không có trong biểu mẫu", "unknown metric"),
    ],
)
def test_submit_bad_values_are_refused(run: Any, value: str, vi: str, en: str) -> None:
    result = run(*FLAGS, "--value", value, "--dry-run")
    assert result.exit_code == 2
    assert vi in result.stderr and en in result.stderr
    assert FakeProducer.sent == []


def test_submit_refuses_a_rule_violation_before_sending(run: Any) -> None:
    result = run(*FLAGS, "--value", "tests_pcr=10", "--value", "tests_pcr_positive=11")
    assert result.exit_code == 2
    assert "RT-PCR positives cannot exceed RT-PCR tests." in result.stderr
    assert FakeProducer.sent == []


def test_submit_with_file_and_flags_is_a_usage_error(run: Any, tmp_path: Path) -> None:
    report = _write(
        tmp_path / "r.json",
        json.dumps(
            {
                "dataset": "district-daily",
                "unit_id": "173",
                "report_date": "2021-07-27",
                "values": {"cases_new": 1},
            }
        ),
    )
    result = run(*FLAGS, "--file", report, "--dry-run")
    assert result.exit_code == 2
    assert "Dùng đúng một trong" in result.stderr and "Use exactly one of" in result.stderr


def test_submit_with_incomplete_flags_names_what_is_missing(run: Any) -> None:
    result = run("submit", "--unit", "173", "--value", "cases_new=1", "--dry-run")
    assert result.exit_code == 2
    assert "--dataset" in result.stderr and "--date" in result.stderr


def test_submit_file_with_submitted_at_is_refused(run: Any, tmp_path: Path) -> None:
    report = _write(
        tmp_path / "r.json",
        json.dumps(
            {
                "dataset": "district-daily",
                "unit_id": "173",
                "report_date": "2021-07-27",
                "submitted_at": "2021-07-27T08:00:00+07:00",
                "values": {"cases_new": 1},
            }
        ),
    )
    result = run("submit", "--file", report, "--by", "tester", "--dry-run")
    assert result.exit_code == 2
    assert "[submitted_at]" in result.stderr
    assert "hãy bỏ trường submitted_at" in result.stderr
    assert "remove it from the report" in result.stderr


def test_submit_valid_file_dry_run(run: Any, tmp_path: Path) -> None:
    report = _write(
        tmp_path / "r.json",
        json.dumps(
            {
                "dataset": "checkpoint-daily",
                "unit_id": "CP-20-02",
                "report_date": "2021-07-27",
                "values": {"people_screened": 120, "from_epidemic_areas": 4},
            }
        ),
    )
    result = run("submit", "--file", report, "--by", "tester", "--dry-run")
    assert result.exit_code == 0, result.output


def test_submit_csv_dry_run(run: Any, tmp_path: Path) -> None:
    csv = _write(
        tmp_path / "reports.csv",
        (
            "\ufeffdataset,unit_id,report_date,cases_new,people_screened\n"
            "district-daily,173,2021-07-27,3,\n"
            "checkpoint-daily,CP-20-01,2021-07-27,,150\n"
        ),
    )
    result = run("submit", "--csv", csv, "--by", "tester", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 report(s) valid" in result.stdout
    assert FakeProducer.sent == []


def test_submit_csv_refuses_the_whole_file_and_names_rows_and_lines(
    run: Any, tmp_path: Path
) -> None:
    csv = _write(
        tmp_path / "reports.csv",
        (
            "dataset,unit_id,report_date,cases_new\n"
            "district-daily,173,2021-07-27,3\n"
            "district-daily,172,2021-07-27,-3\n"
            "district-daily,99999,2021-07-27,1\n"
        ),
    )
    result = run("submit", "--csv", csv, "--by", "tester")
    assert result.exit_code == 2
    assert "[line 3] values.cases_new" in result.stderr
    # the unknown unit on line 4 is reported in the same pass, not after line 3 is fixed
    assert "[line 4: unit_id]" in result.stderr and "99999" in result.stderr
    assert result.stderr.index("line 3") < result.stderr.index("line 4")
    assert FakeProducer.sent == []  # the good row is not sent either

    fixed = _write(
        tmp_path / "reports.csv",
        (
            "dataset,unit_id,report_date,cases_new\n"
            "district-daily,173,2021-07-27,3\n"
            "district-daily,99999,2021-07-27,1\n"
        ),
    )
    result = run("submit", "--csv", fixed, "--by", "tester")
    assert result.exit_code == 2
    assert "[line 3: unit_id]" in result.stderr and "99999" in result.stderr
    assert FakeProducer.sent == []


def test_submit_help_shows_the_examples(run: Any) -> None:
    result = run("submit", "--help")
    assert result.exit_code == 0
    assert "Examples / Ví dụ:" in result.stdout
    assert "baocao submit --dataset district-daily --unit 173 --date 2021-07-27" in result.stdout
    assert "baocao submit --csv reports.csv" in result.stdout


# --- schemas -----------------------------------------------------------------------------


def test_schemas_written_then_checked(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    assert run("schemas", "--out", str(out)).exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(json_schemas())
    assert "reports.submitted.schema.json" in names
    schema = json.loads((out / "reports.submitted.schema.json").read_text("utf-8"))
    assert "submitted_at" in schema["properties"]
    assert run("schemas", "--check", "--out", str(out)).exit_code == 0

    stale = out / "alerts.schema.json"
    stale.write_text(stale.read_text("utf-8").replace('"alert_id"', '"alert_key"'), "utf-8")
    result = run("schemas", "--check", "--out", str(out))
    assert result.exit_code == 1
    assert "stale schemas" in result.output and "alerts.schema.json" in result.output
    assert "reports.submitted.schema.json" not in result.output


def test_schemas_check_fails_when_a_file_is_missing(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    run("schemas", "--out", str(out))
    (out / "reports.rejected.schema.json").unlink()
    result = run("schemas", "--check", "--out", str(out))
    assert result.exit_code == 1 and "reports.rejected.schema.json" in result.output


@pytest.mark.skipif(
    not any(COMMITTED_SCHEMAS.glob("*.json")),
    reason="docs/schemas has not been generated yet (run `baocao schemas`)",
)
def test_committed_schemas_are_current(run: Any) -> None:
    result = run("schemas", "--check", "--out", str(COMMITTED_SCHEMAS))
    assert result.exit_code == 0, result.output


# --- registry build ----------------------------------------------------------------------


def test_registry_build_writes_a_loadable_registry(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = run("registry", "build", "--province", "20", "--no-communes", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"to {out}" in result.stdout
    registry = Registry.load(out)
    posts = registry.filter(province="20", kind=UnitKind.CHECKPOINT)
    assert sorted(u.unit_id for u in posts) == ["CP-20-01", "CP-20-02", "CP-20-03"]
    assert registry.filter(kind=UnitKind.COMMUNE) == []
    dinh_lap = registry.get("189")
    assert dinh_lap is not None and dinh_lap.name == "Huyện Đình Lập"
    assert f"wrote {len(registry)} units" in result.stdout


def test_registry_build_unknown_province_fails_clearly(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = run("registry", "build", "--province", "99", "--out", str(out))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "unknown province code(s) 99" in result.output
    assert "mã tỉnh không hợp lệ" in result.output and "19" in result.output
    assert not out.exists()


# --- regressions of defects found in review -------------------------------------------


def test_units_bad_active_on_is_a_usage_error(run: Any) -> None:
    result = run("units", "--active-on", "27/07/2021")
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0
    assert "27/07/2021" in result.output


def test_submit_csv_not_utf8_is_refused_clearly(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes(
        "dataset,unit_id,report_date,note,cases_new\n"
        "district-daily,173,2021-07-27,Phú Bình,3\n".encode("latin-1")
    )
    result = run("submit", "--csv", str(path), "--by", "tester", "--dry-run")
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0
    assert "utf-8" in result.output.lower()


def test_registry_build_into_missing_directory_fails_clearly(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "nodir" / "x.json"
    result = run("registry", "build", "--province", "20", "--no-communes", "--out", str(out))
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0
    assert "nodir" in result.output
