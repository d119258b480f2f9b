"""`baocao dhis2`: export from a chDB warehouse, push to a stand-in DHIS2, import back.

The warehouse holds (demo registry, Thái Nguyên):
- Phú Bình (173) on 2021-07-20: a report at 09:00 and its correction at 16:00 (the
  correction is exported; the completion date is the first report's 09:00);
- Thành phố Thái Nguyên (164) on 2021-07-27;
- Phú Bình on 2021-07-19 and 2021-07-28, outside the exported span;
- checkpoint CP-20-01 on 2021-07-22 (another dataset).

The stand-in DHIS2 answers POST /api/dataValueSets as the Web API does (Basic auth,
dryRun, idScheme=code), in the pre-2.38 shape (a bare ImportSummary) or the 2.38+ shape
(a web message wrapping it, HTTP 409 when there are conflicts); it refuses the data
element EXAMPLE_DE_DEATHS with a conflict.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

import producers.kafka
from baocao.broker import free_port
from baocao.cli import main
from baocao.dhis2 import mapping as dhis2_mapping
from baocao.dhis2.export import latest_reports
from baocao.dhis2.push import endpoint, parse_summary
from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.events import ReportAccepted, ReportSubmitted, SourceRef
from contract.registry import Registry
from contract.settings import Settings
from sinks import rows
from warehouse.client import Warehouse

ICT = timezone(timedelta(hours=7))
REF = SourceRef(topic="reports.accepted", partition=0, offset=0)
USER, PASSWORD = "admin", "district"
DS = "EXAMPLE_DS_DISTRICT_DAILY"

# The documented shapes (DHIS2 Web API, "Data values" / import summaries).
SUMMARY_BEFORE_2_38 = {
    "responseType": "ImportSummary",
    "status": "SUCCESS",
    "importOptions": {"idSchemes": {}, "dryRun": False, "async": False},
    "description": "Import process completed successfully",
    "importCount": {"imported": 2, "updated": 0, "ignored": 1, "deleted": 0},
    "conflicts": [{"object": "FTRrcoaog83", "value": "Data element not found or not accessible"}],
    "dataSetComplete": "false",
}
SUMMARY_2_38 = {
    "httpStatus": "Conflict",
    "httpStatusCode": 409,
    "status": "WARNING",
    "message": "One more conflicts encountered, please check import summary.",
    "response": {
        "responseType": "ImportSummary",
        "status": "WARNING",
        "description": "Import process completed successfully",
        "importCount": {"imported": 5, "updated": 1, "ignored": 1, "deleted": 0},
        "conflicts": [
            {
                "object": "EXAMPLE_DE_DEATHS",
                "objects": {"dataElement": "EXAMPLE_DE_DEATHS"},
                "value": "Data element not found or not accessible",
                "errorCode": "E7610",
                "property": "dataElement",
                "indexes": [2],
            }
        ],
        "rejectedIndexes": [2],
    },
}
ERROR_2_38 = {
    "httpStatus": "Conflict",
    "httpStatusCode": 409,
    "status": "ERROR",
    "message": "An error occurred, please check import summary.",
    "response": {
        "responseType": "ImportSummary",
        "status": "ERROR",
        "description": "Data set not found or not accessible",
        "importCount": {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0},
        "conflicts": [{"object": DS, "value": "Data set not found or not accessible"}],
    },
}

D19, D20, D22, D27, D28 = (date(2021, 7, d) for d in (19, 20, 22, 27, 28))
FIRST_173 = {"cases_new": 3, "cases_community": 1, "tests_pcr": 420, "tests_pcr_positive": 3,
             "vaccine_dose1.age_18_49": 1200}  # fmt: skip
LATEST_173 = {"cases_new": 4, "cases_community": 2, "tests_pcr": 430, "tests_pcr_positive": 4,
              "vaccine_dose1.age_18_49": 1250, "vaccine_dose1.age_65_plus": 30}  # fmt: skip
ON_164 = {"cases_new": 0, "deaths": 1, "vaccine_dose2.age_65_plus": 50}
AT_CP = {"people_screened": 300, "tests_antigen": 40, "tests_antigen_positive": 1}


def accepted(
    unit: str,
    day: date,
    values: dict[str, int],
    hour: int,
    *,
    revision: int = 1,
    first_hour: int | None = None,
    dataset: str = "district-daily",
) -> ReportAccepted:
    midnight = datetime.combine(day, datetime.min.time(), ICT)
    at, first = midnight + timedelta(hours=hour), midnight + timedelta(hours=first_hour or hour)
    return ReportAccepted.model_validate(
        {
            "report_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{unit}/{day}/{revision}"),
            "dataset": dataset,
            "unit_id": unit,
            "report_date": day,
            "submitted_at": at,
            "submitted_by": f"cán bộ {unit}",
            "values": values,
            "revision": revision,
            "reason": "Sửa sau rà soát" if revision > 1 else "",
            "timeliness": "on_time" if first.hour < 15 else "late",
            "first_submitted_at": first,
            "deadline": midnight + timedelta(hours=15),
            "accepted_at": at + timedelta(seconds=1),
        }
    )


REPORTS = [
    accepted("173", D20, FIRST_173, 9),
    accepted("173", D20, LATEST_173, 16, revision=2, first_hour=9),
    accepted("164", D27, ON_164, 14),
    accepted("173", D19, {"cases_new": 9}, 10),
    accepted("173", D28, {"cases_new": 8}, 10),
    accepted("CP-20-01", D22, AT_CP, 11, dataset="checkpoint-daily"),
]


def fill(wh: Warehouse, reports: Iterable[ReportAccepted]) -> None:
    """Write accepted reports as the sink does: values first, then the report rows."""
    reports = list(reports)
    values = [row for r in reports for row in rows.report_value_rows(r)]
    wh.insert("report_values", values, rows.REPORT_VALUES_COLUMNS)
    wh.insert("reports", [rows.report_row(r, REF) for r in reports], rows.REPORTS_COLUMNS)


@pytest.fixture(scope="module")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A filled warehouse, closed again: commands open it as with no service running.

    chDB opens one data directory per process: this module uses this one only, and
    every opening of it is closed before the next (the commands', the route test's).
    """
    path = tmp_path_factory.mktemp("dhis2") / "warehouse"
    with Warehouse.connect(Settings(warehouse="chdb", chdb_path=path, database="dhis2")) as wh:
        wh.ensure_schema()
        wh.load_units(Registry.load())
        fill(wh, REPORTS)
    return path


@pytest.fixture
def env(chdb_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The commands' environment: this warehouse, no service, no broker, no stray .env."""
    for name in ("BAOCAO_REGISTRY_PATH", "BAOCAO_DATASETS_PATH", "BAOCAO_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    FakeProducer.sent = []
    monkeypatch.setattr(producers.kafka, "ReportProducer", FakeProducer)
    return {
        "BAOCAO_WAREHOUSE": "chdb",
        "BAOCAO_CHDB_PATH": str(chdb_path),
        "BAOCAO_DATABASE": "dhis2",
        "BAOCAO_HTTP_PORT": str(free_port()),  # no service there: the command opens chDB
        "BAOCAO_BROKER": "127.0.0.1:1",
        "DHIS2_PASSWORD": PASSWORD,
    }


class FakeProducer:
    """Stands in for ReportProducer: records what would have been published."""

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
                str(r.report_id), r.unit_id, r.dataset, r.report_date.isoformat(),
                "reports.submitted", 0, n,
            )
            for n, r in enumerate(batch)
        ]  # fmt: skip


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def export(env: dict[str, str], tmp_path: Path, *more: str, name: str = "out.json") -> Any:
    out = tmp_path / name
    result = run(env, "dhis2", "export", "--dataset", "district-daily", "--from", "2021-07-20",
                 "--to", "2021-07-27", "--out", str(out), *more)  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text("utf-8"))


def value_set(doc: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    return {
        (v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"], v["value"])
        for v in doc["dataValues"]
    }


# --- export -------------------------------------------------------------------------------


def test_export_writes_the_latest_revision_of_each_unit_day(
    env: dict[str, str], tmp_path: Path
) -> None:
    doc = export(env, tmp_path)
    assert doc["dataSet"] == DS
    assert value_set(doc) == {
        ("EXAMPLE_DE_CASES_NEW", "20210720", "173", "default", "4"),
        ("EXAMPLE_DE_CASES_COMMUNITY", "20210720", "173", "default", "2"),
        ("EXAMPLE_DE_TESTS_PCR", "20210720", "173", "default", "430"),
        ("EXAMPLE_DE_TESTS_PCR_POSITIVE", "20210720", "173", "default", "4"),
        ("EXAMPLE_DE_VACCINE_DOSE1", "20210720", "173", "EXAMPLE_COC_AGE_18_49", "1250"),
        ("EXAMPLE_DE_VACCINE_DOSE1", "20210720", "173", "EXAMPLE_COC_AGE_65_PLUS", "30"),
        ("EXAMPLE_DE_CASES_NEW", "20210727", "164", "default", "0"),
        ("EXAMPLE_DE_DEATHS", "20210727", "164", "default", "1"),
        ("EXAMPLE_DE_VACCINE_DOSE2", "20210727", "164", "EXAMPLE_COC_AGE_65_PLUS", "50"),
    }
    assert all(isinstance(v["value"], str) for v in doc["dataValues"])
    assert doc["completeDataSetRegistrations"] == [
        {"dataSet": DS, "period": "20210720", "organisationUnit": "173", "completed": True,
         "date": "2021-07-20T09:00:00.000"},  # the first accepted submission, local time
        {"dataSet": DS, "period": "20210727", "organisationUnit": "164", "completed": True,
         "date": "2021-07-27T14:00:00.000"},
    ]  # fmt: skip


def test_export_to_standard_output_and_of_another_dataset(env: dict[str, str]) -> None:
    result = run(env, "dhis2", "export", "--dataset", "checkpoint-daily", "--from", "2021-07-22",
                 "--to", "2021-07-22")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert value_set(doc) == {
        ("EXAMPLE_DE_PEOPLE_SCREENED", "20210722", "CP-20-01", "default", "300"),
        ("EXAMPLE_DE_TESTS_ANTIGEN", "20210722", "CP-20-01", "default", "40"),
        ("EXAMPLE_DE_TESTS_ANTIGEN_POSITIVE", "20210722", "CP-20-01", "default", "1"),
    }
    assert "1 báo cáo, 3 giá trị / 1 reports, 3 values" in result.stderr


def test_a_metric_without_a_mapping_is_reported_not_dropped_quietly(
    env: dict[str, str], tmp_path: Path
) -> None:
    text = (Path(dhis2_mapping.__file__).parents[2] / "contract/data/dhis2-mapping.toml").read_text(
        "utf-8"
    )
    partial = tmp_path / "partial.toml"
    partial.write_text(
        text.replace('deaths = "EXAMPLE_DE_DEATHS"\n', "").replace(
            'age_65_plus = "EXAMPLE_COC_AGE_65_PLUS"\n', ""
        ),
        "utf-8",
    )
    out = tmp_path / "partial.json"
    result = run(env, "dhis2", "export", "--dataset", "district-daily", "--from", "2021-07-20",
                 "--to", "2021-07-27", "--out", str(out), "--mapping", str(partial))  # fmt: skip
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "chưa ánh xạ, không xuất / not mapped, not exported: deaths (1 giá trị / values)" in err
    assert "vaccine_dose1.age_65_plus (1 giá trị / values)" in err
    assert "vaccine_dose2.age_65_plus (1 giá trị / values)" in err
    elements = {v["dataElement"] for v in json.loads(out.read_text("utf-8"))["dataValues"]}
    assert "EXAMPLE_DE_DEATHS" not in elements and "EXAMPLE_DE_VACCINE_DOSE2" not in elements


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--dataset", "nope", "--from", "2021-07-20", "--to", "2021-07-27"], "no dataset nope"),
        (["--dataset", "district-daily", "--from", "2021-07-27", "--to", "2021-07-20"],
         "is before --from"),
        (["--dataset", "district-daily", "--from", "27/07/2021", "--to", "2021-07-27"],
         "invalid dates"),
        (["--dataset", "district-daily", "--from", "2020-01-01", "--to", "2021-07-27"],
         "at most 366 days"),
        (["--dataset", "district-daily", "--from", "2021-07-20", "--to", "2021-07-27",
          "--push", "http://127.0.0.1:1"], "--push needs --user"),
        (["--dataset", "district-daily", "--from", "2021-07-20", "--to", "2021-07-27",
          "--dry-run"], "go with --push"),
    ],
)  # fmt: skip
def test_export_refuses_bad_options_in_both_languages(
    env: dict[str, str], args: list[str], said: str
) -> None:
    result = run(env, "dhis2", "export", *args)
    assert result.exit_code == 2, result.output
    assert said in result.output


def test_the_service_serves_the_exports_read(chdb_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from baocao.dhis2.routes import PATH, add_routes

    settings = Settings(warehouse="chdb", chdb_path=chdb_path, database="dhis2")
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()  # as the service does: unqualified names resolve in its database
        app = FastAPI()
        add_routes(app, wh)
        client = TestClient(app)
        answer = client.get(PATH, params={"dataset": "district-daily", "from": "2021-07-20",
                                          "to": "2021-07-27"})  # fmt: skip
        assert answer.status_code == 200
        assert answer.json() == latest_reports(wh, "district-daily", D20, D27)
        bad = client.get(PATH, params={"dataset": "district-daily", "from": "x", "to": "y"})
        direct = latest_reports(wh, "district-daily", D20, D27)
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
    assert [(r["unit_id"], r["report_date"], r["revision"]) for r in direct] == [
        ("173", "2021-07-20", 2),
        ("164", "2021-07-27", 1),
    ]
    assert direct[0]["values"] == LATEST_173
    assert direct[0]["first_submitted_at"] == "2021-07-20T02:00:00+00:00"


def test_the_services_route_is_the_operators() -> None:
    from baocao.access import surface
    from baocao.dhis2.routes import PATH

    assert surface(PATH) == "operator"  # from this host or with the service token only


# --- mapping ------------------------------------------------------------------------------


def test_the_built_in_mapping_covers_every_key_with_labelled_example_codes() -> None:
    catalog = Catalog.load()
    found = dhis2_mapping.load(catalog)
    assert found.examples
    for ds in catalog.datasets:
        dm = found.get(ds.code)
        assert dm is not None and dm.unmapped == ()
        assert set(dm.targets) == set(catalog.value_keys(ds))
        assert dm.data_set.startswith("EXAMPLE_")
    shared = found.with_element("EXAMPLE_DE_TESTS_ANTIGEN")
    assert sorted(d.dataset for d in shared) == ["checkpoint-daily", "district-daily"]


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('[datasets.nope]\ndata_set = "X"\n',
         "[datasets.nope]: không có biểu mẫu này / no such dataset"),
        ('[datasets.district-daily]\ndata_set = "X"\n[datasets.district-daily.data_elements]\n'
         'case_new = "A"\n', "data_elements.case_new: không có chỉ tiêu này / unknown metric"),
        ('[datasets.district-daily]\ndata_set = "X"\n[datasets.district-daily.data_elements]\n'
         'cases_new = "A"\ndeaths = "A"\n', "cases_new and deaths both map to (A, default)"),
        ('[datasets.district-daily]\ndata_set = "X"\n[datasets.checkpoint-daily]\n'
         'data_set = "X"\n',
         "data_set 'X': dùng cho cả district-daily và checkpoint-daily / is used by"),
        ('[datasets.district-daily]\ndata_set = "X"\n'
         '[datasets.district-daily.category_option_combos]\n"deaths.age_18_49" = "C"\n',
         "unknown option 'age_18_49' for metric 'deaths'"),
        ('[datasets.district-daily]\ndatas_et = "X"\n', "cannot read the DHIS2 mapping"),
        ("not toml [", "cannot read the DHIS2 mapping"),
    ],
)  # fmt: skip
def test_a_wrong_mapping_is_refused_with_every_problem(
    tmp_path: Path, toml: str, said: str
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(ConfigError) as caught:
        dhis2_mapping.load(Catalog.load(), path)
    assert said in str(caught.value)
    assert "/ " in str(caught.value)  # Vietnamese, then English


# --- import -------------------------------------------------------------------------------


def write(tmp_path: Path, doc: Any, name: str = "in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), "utf-8")
    return str(path)


def test_round_trip_export_then_import_gives_the_latest_values(
    env: dict[str, str], tmp_path: Path
) -> None:
    doc = export(env, tmp_path)
    result = run(env, "dhis2", "import", write(tmp_path, doc), "--by", "dhis2-sync")
    assert result.exit_code == 0, result.output
    assert "2 báo cáo từ 9 giá trị / reports from 9 values" in result.stderr
    got = {(r.dataset, r.unit_id, r.report_date): dict(r.values) for r in FakeProducer.sent}
    assert got == {
        ("district-daily", "173", D20): LATEST_173,
        ("district-daily", "164", D27): ON_164,
    }
    assert {r.submitted_by for r in FakeProducer.sent} == {"dhis2-sync"}
    assert all("imported from DHIS2" in r.note for r in FakeProducer.sent)
    assert result.stdout.count("received / đã nhận") == 2

    # The same file again: the same report_ids, so the stream drops them as re-sends.
    first_ids = [r.report_id for r in FakeProducer.sent]
    again = run(env, "dhis2", "import", write(tmp_path, doc), "--by", "dhis2-sync")
    assert again.exit_code == 0, again.output
    assert [r.report_id for r in FakeProducer.sent[2:]] == first_ids

    # One changed value: a new report (a new revision) for that unit-day only.
    changed = json.loads(json.dumps(doc))
    for v in changed["dataValues"]:
        if (v["orgUnit"], v["dataElement"]) == ("164", "EXAMPLE_DE_DEATHS"):
            v["value"] = "2"
    third = run(env, "dhis2", "import", write(tmp_path, changed), "--by", "dhis2-sync")
    assert third.exit_code == 0, third.output
    before = {r.unit_id: r.report_id for r in FakeProducer.sent[:2]}
    after = {r.unit_id: r.report_id for r in FakeProducer.sent[4:]}
    assert after["173"] == before["173"] and after["164"] != before["164"]


def test_import_dry_run_checks_and_sends_nothing(env: dict[str, str], tmp_path: Path) -> None:
    doc = export(env, tmp_path)
    result = run(env, "dhis2", "import", write(tmp_path, doc), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 report(s) valid / hợp lệ; nothing sent (--dry-run)." in result.output
    assert FakeProducer.sent == []


def test_import_resolves_a_shared_data_element_by_the_units_dataset_and_reads_defaults(
    env: dict[str, str], tmp_path: Path
) -> None:
    doc = {
        "period": "20210722",  # document-wide defaults, as DHIS2 allows
        "dataValues": [
            {"dataElement": "EXAMPLE_DE_TESTS_ANTIGEN", "orgUnit": "CP-20-01", "value": "40"},
            {"dataElement": "EXAMPLE_DE_PEOPLE_SCREENED", "orgUnit": "CP-20-01", "value": 300},
            {"dataElement": "EXAMPLE_DE_TESTS_ANTIGEN", "orgUnit": "173", "value": "12.0",
             "categoryOptionCombo": "default", "attributeOptionCombo": "HllvX50cXC0"},
            {"dataElement": "EXAMPLE_DE_TESTS_ANTIGEN_POSITIVE", "orgUnit": "173", "value": "1"},
            {"dataElement": "EXAMPLE_DE_DEATHS", "orgUnit": "173", "value": "5",
             "deleted": True},
        ],
    }  # fmt: skip
    result = run(env, "dhis2", "import", write(tmp_path, doc))
    assert result.exit_code == 0, result.output
    assert "(1 giá trị đã xoá bỏ qua / deleted values skipped)" in result.stderr
    got = {(r.dataset, r.unit_id): dict(r.values) for r in FakeProducer.sent}
    assert got == {
        ("checkpoint-daily", "CP-20-01"): {"tests_antigen": 40, "people_screened": 300},
        ("district-daily", "173"): {"tests_antigen": 12, "tests_antigen_positive": 1},
    }


def test_import_lists_every_bad_row_in_both_languages_and_sends_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    doc = {
        "dataSet": DS,
        "dataValues": [
            {"dataElement": "EXAMPLE_DE_CASES_NEW", "period": "20210720", "orgUnit": "173",
             "categoryOptionCombo": "default", "value": "3"},  # fine, yet not sent
            {"dataElement": "fbfJHSPpUQD", "period": "20210720", "orgUnit": "173",
             "value": "1"},
            {"dataElement": "EXAMPLE_DE_CASES_NEW", "period": "20210720", "orgUnit": "DiszpKrYNg8",
             "value": "1"},
            {"dataElement": "EXAMPLE_DE_CASES_NEW", "period": "202107", "orgUnit": "164",
             "value": "1"},
            {"dataElement": "EXAMPLE_DE_CASES_NEW", "period": "20210720", "orgUnit": "164",
             "value": "-1"},
            {"dataElement": "EXAMPLE_DE_VACCINE_DOSE1", "period": "20210720", "orgUnit": "164",
             "categoryOptionCombo": "default", "value": "1"},
            {"dataElement": "EXAMPLE_DE_PEOPLE_SCREENED", "period": "20210720",
             "orgUnit": "164", "value": "1"},  # a checkpoint's element, not in this data set
        ],
    }  # fmt: skip
    result = run(env, "dhis2", "import", write(tmp_path, doc))
    assert result.exit_code == 2, result.output
    out = result.output
    assert "Báo cáo bị từ chối / Report refused:" in out
    for said in [
        "[dataValues[1]] Phần tử dữ liệu (dataElement) fbfJHSPpUQD không có trong bảng ánh xạ",
        "Data element fbfJHSPpUQD is not in the mapping of EXAMPLE_DS_DISTRICT_DAILY.",
        "[dataValues[2]] Đơn vị (orgUnit) DiszpKrYNg8 không có trong danh mục đơn vị.",
        "Organisation unit DiszpKrYNg8 is not in the unit registry.",
        "Period 202107 is not a daily period (yyyyMMdd, e.g. 20210727).",
        "Value '-1' is not a count (a whole number ≥ 0).",
        "categoryOptionCombo default of EXAMPLE_DE_VACCINE_DOSE1 is not in the mapping",
        "[dataValues[6]]",
    ]:
        assert said in out, said
    assert "dataValues[0]" not in out
    assert FakeProducer.sent == []


def test_import_applies_the_same_checks_as_submit(env: dict[str, str], tmp_path: Path) -> None:
    doc = {
        "dataValues": [
            {"dataElement": "EXAMPLE_DE_TESTS_PCR", "period": "20210720", "orgUnit": "169",
             "value": "10"},
            {"dataElement": "EXAMPLE_DE_TESTS_PCR_POSITIVE", "period": "20210720",
             "orgUnit": "169", "value": "11"},
            {"dataElement": "EXAMPLE_DE_CASES_NEW", "period": "20210720", "orgUnit": "173",
             "value": "1"},
        ]
    }  # fmt: skip
    result = run(env, "dhis2", "import", write(tmp_path, doc))
    assert result.exit_code == 2, result.output
    assert "169 2021-07-20 district-daily" in result.output
    assert "RT-PCR positives cannot exceed RT-PCR tests." in result.output
    assert FakeProducer.sent == []


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "the file is not valid JSON"),
        ('{"dataValues": {}}', "not a DHIS2 dataValueSets document"),
        ('{"dataValues": []}', "The file has no values to import."),
        ('{"dataSet": "ZZZ", "dataValues": []}', "Data set ZZZ is not in the mapping"),
    ],
)
def test_import_refuses_what_is_not_a_data_value_set(
    env: dict[str, str], tmp_path: Path, content: str, said: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, "utf-8")
    result = run(env, "dhis2", "import", str(path))
    assert result.exit_code != 0
    assert said in result.output
    assert FakeProducer.sent == []


# --- push: a stand-in DHIS2 ---------------------------------------------------------------


class StandIn:
    """What the stand-in DHIS2 received and how it answers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.stored: dict[tuple[str, str, str, str], str] = {}
        self.shape = "2.38"  # or "2.37": a bare import summary; "error": a refused import

    def answer(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        dry = query.get("dryRun") == ["true"]
        if self.shape == "error":
            return 409, ERROR_2_38
        counts = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
        conflicts = []
        for n, v in enumerate(body["dataValues"]):
            key = (v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"])
            if v["dataElement"] == "EXAMPLE_DE_DEATHS":
                counts["ignored"] += 1
                conflicts.append({"object": v["dataElement"], "indexes": [n],
                                  "value": "Data element not found or not accessible"})  # fmt: skip
                continue
            counts["updated" if key in self.stored else "imported"] += 1
            if not dry:
                self.stored[key] = v["value"]
        summary = {
            "responseType": "ImportSummary",
            "status": "WARNING" if conflicts else "SUCCESS",
            "importOptions": {"idSchemes": {}, "dryRun": dry},
            "description": "Import process completed successfully",
            "importCount": counts,
            "conflicts": conflicts,
        }
        if self.shape == "2.37":
            return 200, summary
        outer = {"httpStatus": "Conflict" if conflicts else "OK",
                 "httpStatusCode": 409 if conflicts else 200,
                 "status": "WARNING" if conflicts else "OK",
                 "message": "Import was successful.", "response": summary}  # fmt: skip
        return outer["httpStatusCode"], outer


@pytest.fixture
def dhis2() -> Iterator[tuple[str, StandIn]]:
    state = StandIn()
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            auth = self.headers.get("Authorization")
            state.requests.append({"path": url.path, "query": query, "auth": auth, "body": body})
            if auth != good:
                self.reply(401, {"httpStatus": "Unauthorized", "httpStatusCode": 401,
                                 "status": "ERROR", "message": "Unauthorized"})  # fmt: skip
            elif url.path != "/dhis/api/dataValueSets":
                self.reply(404, {"httpStatusCode": 404, "status": "ERROR"})
            else:
                self.reply(*state.answer(query, body))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dhis", state
    server.shutdown()
    server.server_close()
    thread.join()


def push(env: dict[str, str], url: str, *more: str) -> Result:
    return run(env, "dhis2", "export", "--dataset", "district-daily", "--from", "2021-07-20",
               "--to", "2021-07-27", "--push", url, "--user", USER, *more)  # fmt: skip


def test_summaries_are_read_in_both_documented_shapes() -> None:
    old = parse_summary(SUMMARY_BEFORE_2_38)
    assert (old.status, old.imported, old.updated, old.ignored, old.deleted) == (
        "SUCCESS", 2, 0, 1, 0)  # fmt: skip
    assert [(c.object, c.value) for c in old.conflicts] == [
        ("FTRrcoaog83", "Data element not found or not accessible")
    ]
    new = parse_summary(SUMMARY_2_38)
    assert (new.status, new.imported, new.updated, new.ignored) == ("WARNING", 5, 1, 1)
    assert not new.failed and new.conflicts[0].object == "EXAMPLE_DE_DEATHS"
    error = parse_summary(ERROR_2_38)
    assert error.failed and error.description == "Data set not found or not accessible"
    with pytest.raises(ValueError):
        parse_summary({"hello": "world"})
    assert endpoint("https://x.org/dhis/") == "https://x.org/dhis/api/dataValueSets"
    assert endpoint("https://x.org/api") == "https://x.org/api/dataValueSets"


def test_push_dry_run_checks_only_with_basic_auth_and_codes(
    env: dict[str, str], dhis2: tuple[str, StandIn]
) -> None:
    url, state = dhis2
    result = push(env, url, "--dry-run")
    assert result.exit_code == 0, result.output
    (request,) = state.requests
    assert request["path"] == "/dhis/api/dataValueSets"
    assert request["query"] == {"dryRun": ["true"], "idScheme": ["code"]}
    assert request["auth"] == "Basic " + base64.b64encode(b"admin:district").decode()
    assert len(request["body"]["dataValues"]) == 9
    assert state.stored == {}
    out = result.stdout
    assert ("DHIS2 chạy thử / dry run: trạng thái / status WARNING — nhập mới / imported 8,"
            " cập nhật / updated 0, bỏ qua / ignored 1, xoá / deleted 0") in out  # fmt: skip
    assert "xung đột / conflict: EXAMPLE_DE_DEATHS: Data element not found or not accessible" in out
    assert "EXAMPLE_" in result.stderr  # the built-in mapping's codes are made up: said so
    assert "DHIS2 đã nhập" not in out


@pytest.mark.parametrize("shape", ["2.37", "2.38"])
def test_push_checks_then_imports_and_reports_each_summary(
    env: dict[str, str], dhis2: tuple[str, StandIn], shape: str
) -> None:
    url, state = dhis2
    state.shape = shape
    result = push(env, url)
    assert result.exit_code == 0, result.output
    assert [r["query"]["dryRun"] for r in state.requests] == [["true"], ["false"]]
    assert len(state.stored) == 8
    assert state.stored[("EXAMPLE_DE_TESTS_PCR", "20210720", "173", "default")] == "430"
    assert "DHIS2 đã nhập / import: trạng thái / status WARNING — nhập mới / imported 8" in (
        result.stdout
    )
    again = push(env, url)  # the same values again: DHIS2 counts them as updated
    assert again.exit_code == 0, again.output
    assert "cập nhật / updated 8, bỏ qua / ignored 1" in again.stdout


def test_push_stops_when_dhis2_says_error(env: dict[str, str], dhis2: tuple[str, StandIn]) -> None:
    url, state = dhis2
    state.shape = "error"
    result = push(env, url)
    assert result.exit_code == 1
    assert len(state.requests) == 1  # the dry run failed: nothing sent for real
    assert "status ERROR" in result.stdout
    assert f"xung đột / conflict: {DS}: Data set not found or not accessible" in result.stdout
    assert "DHIS2 báo lỗi (ERROR): không gửi tiếp / DHIS2 reported ERROR: stopping" in (
        result.stderr
    )


def test_push_with_a_wrong_password_fails_clearly(
    env: dict[str, str], dhis2: tuple[str, StandIn]
) -> None:
    url, state = dhis2
    result = push({**env, "OTHER_PW": "wrong"}, url, "--password-env", "OTHER_PW")
    assert result.exit_code == 1
    assert len(state.requests) == 1 and state.stored == {}
    assert "DHIS2 từ chối đăng nhập của admin (HTTP 401)" in result.stderr
    assert "DHIS2 refused the login of admin (HTTP 401)" in result.stderr


def test_push_to_a_wrong_path_or_nobody_fails_clearly(
    env: dict[str, str], dhis2: tuple[str, StandIn]
) -> None:
    url, _ = dhis2
    wrong = push(env, url.removesuffix("/dhis"))
    assert wrong.exit_code == 1
    assert "DHIS2 trả lời lỗi HTTP 404 / DHIS2 answered HTTP 404" in wrong.stderr
    nobody = push(env, f"http://127.0.0.1:{free_port()}")
    assert nobody.exit_code == 1
    assert "không kết nối được DHIS2 tại" in nobody.stderr
    assert "cannot reach DHIS2 at" in nobody.stderr


def test_push_without_a_password_is_a_usage_error(
    env: dict[str, str], dhis2: tuple[str, StandIn]
) -> None:
    url, state = dhis2
    result = push({k: v for k, v in env.items() if k != "DHIS2_PASSWORD"}, url)
    assert result.exit_code == 2
    assert "environment variable DHIS2_PASSWORD" in result.output
    assert state.requests == []
