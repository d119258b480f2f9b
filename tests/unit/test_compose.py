"""docker-compose.yml is validated here, since these machines cannot run Docker."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from baocao.cli import main
from contract.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    # ${VAR:?message} must be provided by the operator; substitute a placeholder here.
    return {k: re.sub(r"\$\{[^}]+\}", "placeholder", str(v)) for k, v in env.items()}


def test_every_baocao_service_runs_an_existing_command_with_valid_settings() -> None:
    services = compose()["services"]
    baocao = {n: s for n, s in services.items() if s.get("image") == "baocao:latest"}
    assert set(baocao) == {"topics", "worker", "warehouse"}
    for name, service in baocao.items():
        command = service["command"][0]
        assert command in main.commands, f"{name}: unknown command {command}"
        env = env_of(service)
        unknown = [
            k
            for k in env
            if k.startswith("BAOCAO_")
            and k.removeprefix("BAOCAO_").lower() not in Settings.model_fields
        ]
        assert not unknown, f"{name}: settings that do not exist: {unknown}"
        settings = Settings(**{k.removeprefix("BAOCAO_").lower(): v for k, v in env.items()})
        assert settings.warehouse == "http", "production uses a ClickHouse server"
        assert settings.bootstrap_servers() == ["kafka:9092"]


def test_third_party_images_are_pinned_and_topics_are_never_auto_created() -> None:
    services = compose()["services"]
    for name, service in services.items():
        image = service.get("image", "")
        if image != "baocao:latest":
            assert re.match(r"^[\w./-]+:\d[\w.-]*$", image), f"{name}: pin {image!r}"
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    partitions = int(services["worker"]["environment"]["BAOCAO_PARTITIONS"])
    assert services["worker"]["deploy"]["replicas"] <= partitions


def test_services_wait_for_what_they_need() -> None:
    services = compose()["services"]
    for name in ("worker", "warehouse"):
        needs = services[name]["depends_on"]
        assert needs["topics"]["condition"] == "service_completed_successfully"
        assert needs["clickhouse"]["condition"] == "service_healthy"
    for name in ("kafka", "clickhouse"):
        assert "healthcheck" in services[name]


def test_the_image_contains_every_package() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in {p.split(".")[0] for p in packages}:  # subpackages come with their parent
        assert f"COPY {package} ./{package}" in dockerfile


def test_grafana_mounts_the_generated_dashboards_and_provisioning() -> None:
    grafana = compose()["services"]["grafana"]
    assert grafana["environment"]["GF_INSTALL_PLUGINS"] == "grafana-clickhouse-datasource"
    mounts = {v.split(":")[0]: v.split(":")[1] for v in grafana["volumes"] if v.startswith("./")}
    for local in mounts:
        assert (ROOT / local).exists(), f"{local} is mounted but does not exist"
    provider = yaml.safe_load((ROOT / "dashboards/provisioning/dashboards/baocao.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] in mounts.values()
    users = compose()["services"]["clickhouse"]["volumes"]
    assert any("grafana-readonly.xml" in v for v in users), "read-only user not mounted"
