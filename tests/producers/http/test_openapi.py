"""The OpenAPI document tells the truth: schemathesis runs it against the real service.

The service is the real API app (real tokens and outbox in SQLite, a broker that
acknowledges everything) served by uvicorn on 127.0.0.1. schemathesis runs from a
venv of its own (tools/schemathesis/requirements.txt): every check, every phase
(examples, coverage, fuzzing, stateful links), a fixed seed and a bounded number of
examples.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contract.errors import SubmissionError
from contract.events import MAX_COUNT, ReportSubmitted
from contract.reasons import Reason
from contract.settings import Settings
from producers.http import desk as desk_module
from producers.http.models import ReportIn
from producers.http.openapi import SHAPE_CODES
from tests.support.api_app import Api, FakePublisher, build, report, serving
from tests.support.paths import ROOT

REQUIREMENTS = ROOT / "tools" / "schemathesis" / "requirements.txt"
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Words of the validation library that must never reach a person.
LIBRARY_WORDS = ("Input should", "input should", "Field required", "UUID input", "Value error")


@dataclass
class Served:
    url: str
    token: str


@pytest.fixture(scope="module")
def schemathesis_bin() -> Path:
    """schemathesis's own venv under var/, built once per requirements file."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = ROOT / "var" / "tools" / f"schemathesis-{digest}"
    st = venv / "bin" / "st"
    if not st.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(REQUIREMENTS)],
            check=True,
        )
    return st


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The API app over real HTTP, with rate limits off (hundreds of requests a second)."""
    settings = Settings(_env_file=None, max_payload_bytes=65_536, rate_limit_per_minute=0)  # type: ignore[call-arg]
    app, _, _, _, tokens = build(tmp_path, FakePublisher(), settings)
    with serving(app) as url:
        yield Served(url, tokens["173"])


@pytest.fixture
def serve_app(tmp_path: Path) -> Iterator[Any]:
    """Like ``served``, for a test that changes the service before it starts."""
    settings = Settings(_env_file=None, max_payload_bytes=65_536, rate_limit_per_minute=0)  # type: ignore[call-arg]
    app, _, _, _, tokens = build(tmp_path, FakePublisher(), settings)
    yield app, tokens


def run_schemathesis(
    st: Path, url: str, token: str, workdir: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.support.openapi_checks",
        "BAOCAO_SHAPE_CODES": ",".join(sorted(SHAPE_CODES)),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [
            str(st),
            "--config-file",
            str(CONFIG),
            "run",
            f"{url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,  # its cache directory goes there, not into the repository
    )


def test_the_service_keeps_to_its_openapi_document(
    schemathesis_bin: Path, served: Served, tmp_path: Path
) -> None:
    done = run_schemathesis(schemathesis_bin, served.url, served.token, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Stateful" in done.stdout and "generated" in done.stdout


def test_the_run_fails_when_the_service_refuses_what_its_document_allows(
    schemathesis_bin: Path, serve_app: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The run can fail: bring back the bug it found (a null report_id refused)."""
    real = desk_module.build_report

    def refusing_null(fields: dict[str, Any], *args: Any) -> ReportSubmitted:
        if "report_id" in fields and fields["report_id"] is None:
            raise SubmissionError(
                [Reason.of("invalid_field", "report_id", "phải là UUID", "must be a UUID")]
            )
        return real(fields, *args)

    monkeypatch.setattr(desk_module, "build_report", refusing_null)
    app, tokens = serve_app
    with serving(app) as url:
        done = run_schemathesis(schemathesis_bin, url, tokens["173"], tmp_path)
    assert done.returncode != 0
    assert "refused for its shape: ['invalid_field']" in done.stdout, done.stdout[-4000:]


# ---------------------------------------------------------------- what the run found


def submit(api: Api, body: dict[str, Any]) -> Any:
    return api.client.post("/api/v1/reports", json=body, headers=api.auth("173"))


def test_a_null_report_id_is_generated_as_the_document_says(api: Api) -> None:
    answer = submit(api, report(report_id=None))
    assert answer.status_code == 201, answer.text
    assert len(answer.json()["report_id"]) == 36


def test_an_undeclared_method_gets_405_with_allow(api: Api) -> None:
    for path, allowed in (("/api/v1/reports", {"POST"}), ("/api/v1/me", {"GET", "HEAD"})):
        answer = api.client.request("TRACE", path, headers=api.auth("173"))
        assert answer.status_code == 405
        assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= allowed - {"HEAD"}


def test_the_request_schema_is_the_contract_s(api: Api) -> None:
    """Patterns, bounds and limits come from ReportSubmitted: one definition for both."""
    document = api.client.get("/api/v1/openapi.json").json()
    body = document["paths"]["/api/v1/reports"]["post"]["requestBody"]
    sent = body["content"]["application/json"]["schema"]["properties"]
    contract = ReportSubmitted.model_json_schema()["properties"]
    for name in ("dataset", "unit_id"):
        assert sent[name]["pattern"] == contract[name]["pattern"]
    assert sent["report_date"]["format"] == "date"
    assert {"format": "uuid", "type": "string"} in sent["report_id"]["anyOf"]
    values, kept = sent["values"], contract["values"]
    assert values["maxProperties"] == kept["maxProperties"] == 500
    ((pattern, count),) = kept["patternProperties"].items()
    assert count == {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
    assert values["additionalProperties"] is False
    assert "cases_new" in values["properties"] and "vaccine_dose1.age_18_49" in values["properties"]
    for key, schema in values["properties"].items():
        assert re.fullmatch(pattern, key) and schema == count, key
    assert "district-daily" in sent["dataset"]["enum"]
    assert sent["note"]["maxLength"] == contract["note"]["maxLength"] == 2000
    assert body["content"]["application/json"]["schema"]["additionalProperties"] is False
    assert ReportIn.model_json_schema()["required"] == [
        "dataset",
        "unit_id",
        "report_date",
        "values",
    ]


def test_every_error_a_route_gives_is_declared_with_its_body(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for code in ("401", "403", "404", "413", "422", "429"):
                declared = operation["responses"].get(code)
                assert declared, f"{method.upper()} {path} does not declare {code}"
                ref = declared["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), (path, code)


def test_a_receipt_links_to_its_status(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    post = document["paths"]["/api/v1/reports"]["post"]
    for code in ("200", "201", "202"):
        link = post["responses"][code]["links"]["GetReceipt"]
        assert link["operationId"] == "get_report"
        assert link["parameters"] == {"report_id": "$response.body#/report_id"}
    get = document["paths"]["/api/v1/reports/{report_id}"]["get"]
    assert get["operationId"] == "get_report"


@pytest.mark.parametrize(
    "change",
    [
        {"report_id": "not-a-uuid"},
        {"report_id": 7},
        {"report_date": "2021-13-01"},
        {"values": {"cases_new": -1}},
        {"values": {"cases_new": "a few"}},
        {"values": {"cases_new": 5_000_000_000}},
        {"unit_id": ""},
        {"dataset": None},
    ],
)
def test_refusals_are_in_people_s_words(api: Api, change: dict[str, Any]) -> None:
    answer = submit(api, report(**change))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    for reason in body["reasons"]:
        for words in (reason["message_vi"], reason["message_en"]):
            assert not any(w in words for w in LIBRARY_WORDS), words
    assert body["reasons"] and all(r["message_vi"] != r["message_en"] for r in body["reasons"])


def test_a_bad_query_parameter_is_in_people_s_words(api: Api) -> None:
    answer = api.client.get("/api/v1/units/173/history?days=500", headers=api.auth("173"))
    assert answer.status_code == 422
    (reason,) = answer.json()["reasons"]
    assert reason["message_en"] == "query.days: is too large (at most 92)"
    assert reason["message_vi"] == "query.days: giá trị quá lớn (tối đa 92)"


def test_why_schemathesis_has_a_venv_of_its_own() -> None:
    """urllib3-future (grafana-client -> niquests) replaces urllib3 in the project venv.

    schemathesis's requests transport counts a session's pooled connections through
    urllib3's ``PoolManager.pools.keys()``; urllib3-future's pools have no ``keys``, so
    every request fails there (no upstream report found). When this assertion fails,
    the two get along and tools/schemathesis can go back into the dev dependencies.
    """
    probe = (
        "import json, urllib3; pools = urllib3.PoolManager().pools; "
        "print(json.dumps([type(pools).__name__, hasattr(pools, 'keys')]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    kind, has_keys = json.loads(out.stdout)
    assert (kind, has_keys) == ("TrafficPolice", False)
