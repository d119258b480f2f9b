"""`baocao levels` and `baocao signals` on a chDB warehouse holding known signals and levels.

Thái Nguyên (19), demo registry: on 2021-07-27 Phú Bình (173) has its first community
cases after 38 quiet days, rolled up to the province; an unknown-source signal of
Phú Bình on 2021-07-25 was withdrawn. Levels on and around 2021-09-20 below.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from baocao.broker import free_port
from baocao.cli import main
from contract.registry import Registry
from contract.settings import Settings
from tests.support import surveillance_rows as sr
from warehouse import surveillance
from warehouse.client import Warehouse

D0725, D0727 = date(2021, 7, 25), date(2021, 7, 27)
D0919, D0920, D0921 = date(2021, 9, 19), date(2021, 9, 20), date(2021, 9, 21)
UNKNOWN = {"rule": "unknown_source", "metric": "cases_unknown_source"}
LEVEL2 = "Cấp 2 – Nguy cơ trung bình (vàng) / Level 2 – medium risk (yellow)"
LEVEL3 = "Cấp 3 – Nguy cơ cao (cam) / Level 3 – high risk (orange)"


def fill(wh: Warehouse) -> None:
    alerts = [
        sr.signal("173", D0727),
        sr.signal("19", D0727, unit_kind="province"),
        sr.signal("173", D0725, message=("2 ca chưa rõ nguồn lây", "2 cases of unknown source"),
                  **UNKNOWN),
        sr.signal("173", D0725, state="withdrawn", n=1, **UNKNOWN),
        sr.signal("20", D0727, unit_kind="province"),  # Lạng Sơn: another province
    ]  # fmt: skip
    levels = [
        sr.level("19", D0920, 2, unit_kind="province"),
        sr.level("173", D0920, 3, unconfirmed=("vaccination_65_plus",)),
        sr.level("173", D0921, 4),  # after the asked day: not shown
        sr.level("164", D0919, 1, period="week"),
        sr.level("164", D0920, 2),  # a newer day outranks last Sunday's official level
        sr.level("05917", D0920, None, unit_kind="commune"),  # Tân Khánh: cannot assess
    ]
    sr.write(wh, alerts, levels)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A filled warehouse, closed again: the command opens it, as with no service running."""
    path = Path(tmp_path_factory.mktemp("surveillance")) / "warehouse"
    with Warehouse.connect(Settings(chdb_path=path)) as wh:
        wh.ensure_schema()
        wh.load_units(Registry.load())
        fill(wh)
    return {"BAOCAO_CHDB_PATH": str(path), "BAOCAO_HTTP_PORT": str(free_port())}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def test_levels_show_each_units_newest_level_by_name(env: dict[str, str]) -> None:
    result = run(env, "levels", "--date", "2021-09-20", "--province", "19")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Cấp độ dịch / epidemic levels — Tỉnh Thái Nguyên (19)")
    assert f"{LEVEL3} — Huyện Phú Bình (huyện / district)" in out
    assert f"{LEVEL2} — Thành phố Thái Nguyên (huyện / district)" in out
    assert "Chưa đánh giá / Not assessed — Xã Tân Khánh (xã / commune)" in out
    assert "Cấp 4" not in out.split("\n", 2)[2]  # Phú Bình's level of 09-21 is not shown
    assert (
        "ngưỡng chưa xác nhận từ văn bản / threshold not confirmed from the decision's text:"
        " vaccination_65_plus" in out
    )
    assert "Lý do / why: cấp 3: 28.4 ca/100.000/tuần / level 3: 28.4 per 100k" in out
    assert f"{LEVEL2}: 2 · {LEVEL3}: 1" in out


def test_levels_json_and_kind_filter(env: dict[str, str]) -> None:
    result = run(env, "levels", "--date", "2021-09-20", "--province", "19", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    got = {u["unit_id"]: (u["level"], u["period"], u["level_date"]) for u in data["units"]}
    assert got == {
        "19": (2, "day", "2021-09-20"),
        "164": (2, "day", "2021-09-20"),
        "173": (3, "day", "2021-09-20"),
        "05917": (None, "day", "2021-09-20"),
    }
    assert data["province"] == {"unit_id": "19", "name": "Tỉnh Thái Nguyên"}
    on_sunday = run(env, "levels", "--date", "2021-09-19", "--province", "19", "--json")
    (unit,) = json.loads(on_sunday.output)["units"]
    assert (unit["unit_id"], unit["level"], unit["period"]) == ("164", 1, "week")
    districts = run(env, "levels", "--date", "2021-09-20", "--province", "19",
                    "--kind", "district", "--json")  # fmt: skip
    assert [u["name"] for u in json.loads(districts.output)["units"]] == [
        "Huyện Phú Bình",
        "Thành phố Thái Nguyên",
    ]


def test_signals_show_the_active_ones_with_their_explanation(env: dict[str, str]) -> None:
    result = run(env, "signals", "--date", "2021-07-27", "--province", "19")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Tỉnh Thái Nguyên (19), 2021-07-21 … 2021-07-27: 2" in out
    assert "2021-07-27  Huyện Phú Bình (huyện / district)  [warning]" in out
    assert "2021-07-27  Tỉnh Thái Nguyên (tỉnh / province)  [warning]" in out
    assert "6 ca cộng đồng đầu tiên sau 38 ngày / first 6 community cases after 38 days" in out
    assert "ca đầu tiên sau nhiều ngày không có ca / first cases after quiet days" in out
    assert "chưa rõ nguồn lây" not in out  # withdrawn on 07-25
    later = run(env, "signals", "--date", "2021-07-28", "--province", "19", "--days", "1")
    assert later.exit_code == 0, later.output
    assert "Không có tín hiệu nào đang hoạt động / no active signal" in later.output


def test_signals_json(env: dict[str, str]) -> None:
    result = run(env, "signals", "--date", "2021-07-27", "--province", "19", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["from"], data["date"]) == ("2021-07-21", "2021-07-27")
    assert [s["signal_id"] for s in data["signals"]] == [
        "anomaly:quiet_days:19:cases_community:2021-07-27",
        "anomaly:quiet_days:173:cases_community:2021-07-27",
    ]
    assert data["signals"][1]["name"] == "Huyện Phú Bình"
    assert data["signals"][1]["details"]["quiet_days"] == 38


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["levels", "--date", "20/09/2021", "--province", "19"], "need YYYY-MM-DD"),
        (["signals", "--date", "2021-02-30", "--province", "19"], "ngày không hợp lệ"),
        (["levels", "--date", "2021-09-20", "--province", "99"], "no province 99"),
        (["signals", "--date", "2021-07-27", "--province", "173"], "không có tỉnh mã 173"),
        (["signals", "--date", "2021-07-27", "--province", "19", "--days", "0"], "--days"),
    ],
)
def test_bad_input_is_a_usage_error(env: dict[str, str], args: list[str], said: str) -> None:
    result = run(env, *args)
    assert result.exit_code == 2 and said in result.output, result.output


def test_an_unreachable_warehouse_is_a_clear_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    env = {"BAOCAO_CHDB_PATH": str(blocker / "warehouse"), "BAOCAO_HTTP_PORT": str(free_port())}
    result = run(env, "levels", "--date", "2021-09-20", "--province", "19")
    assert result.exit_code == 1
    assert "kho dữ liệu / warehouse" in result.output


def test_help_is_in_both_languages(env: dict[str, str]) -> None:
    for command, vi, en in (
        ("levels", "Cấp độ dịch từng đơn vị", "each unit's epidemic level"),
        ("signals", "Tín hiệu giám sát đang hoạt động", "active surveillance signals"),
    ):
        out = run(env, command, "--help").output
        assert vi in out and en in out, out


@pytest.fixture
def service(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The warehouse service's two routes over HTTP, while this process holds the warehouse."""
    wh = Warehouse.connect(Settings(chdb_path=Path(env["BAOCAO_CHDB_PATH"])))
    wh.ensure_schema()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, ctype, body = surveillance.handle(self.path, wh) or (404, "text/plain", b"")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {**env, "BAOCAO_HTTP_PORT": str(server.server_address[1])}
    server.shutdown()
    server.server_close()
    wh.close()


def test_with_a_service_running_the_commands_ask_it(service: dict[str, str]) -> None:
    result = run(service, "signals", "--date", "2021-07-27", "--province", "19", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["signals"]) == 2
    text = run(service, "levels", "--date", "2021-09-20", "--province", "19").output
    assert "Huyện Phú Bình (huyện / district)" in text


def test_the_service_refuses_bad_parameters_in_both_languages(env: dict[str, str]) -> None:
    with Warehouse.connect(Settings(chdb_path=Path(env["BAOCAO_CHDB_PATH"]))) as wh:
        wh.ensure_schema()
        for query in ("date=2021-13-01&province=19", "date=2021-07-27&province=x",
                      "date=2021-07-27&province=19&days=400"):  # fmt: skip
            answer = surveillance.handle(f"/api/signals?{query}", wh)
            assert answer is not None and answer[0] == 400
            body = json.loads(answer[2])
            assert body["message_vi"] and body["message_en"], body
        assert surveillance.handle("/api/other", wh) is None


def test_the_warehouse_service_answers_both_routes(env: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from baocao.context import Context
    from baocao.web import build_app
    from contract.clock import ManualClock
    from contract.datasets import Catalog
    from tests.support.api_app import NOW, FakePublisher

    settings = Settings(_env_file=None, chdb_path=Path(env["BAOCAO_CHDB_PATH"]))  # type: ignore[call-arg]
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        with TestClient(build_app(ctx, wh, lambda: {}, FakePublisher())) as client:
            levels = client.get("/api/levels?date=2021-09-20&province=19").json()
            assert {u["unit_id"]: u["level"] for u in levels["units"]}["173"] == 3
            found = client.get("/api/signals?date=2021-07-27&province=19&days=1").json()
            assert [s["unit_id"] for s in found["signals"]] == ["19", "173"]
            refused = client.get("/api/levels?date=yesterday&province=19")
            assert refused.status_code == 400 and "YYYY-MM-DD" in refused.json()["error"]
