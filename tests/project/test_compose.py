"""docker-compose.yml is validated here, since these machines cannot run Docker.

What `docker compose config` and a first `up` would catch, checked without an engine:
schema-level shape, cross-references (mounts, volumes, depends_on, ports), variables
against `.env.example`, settings against `Settings`, commands against the CLI.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from click.testing import CliRunner

from baocao.cli import main
from contract.settings import Settings
from dashboards.catalog import DASHBOARDS

ROOT = Path(__file__).resolve().parents[2]
BAOCAO_IMAGE = "baocao:latest"
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}; $$ is a literal $
VARIABLE = re.compile(r"(?<!\$)\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def baocao_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services().items() if s.get("image") == BAOCAO_IMAGE}


def env_example() -> dict[str, str]:
    """Parse .env.example as compose's dotenv reader does for these simple lines."""
    out = {}
    for line in (ROOT / ".env.example").read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[key.strip()] = value
    return out


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def interpolate(value: Any, env: dict[str, str]) -> str:
    """Substitute ${...} as compose does, from the operator's .env (here: the example)."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.groups()
        if name in env and (env[name] or not (op or "").startswith(":")):
            return env[name]
        assert op is None or "?" not in op, f"{name} is required: {arg}"
        return arg or ""

    return VARIABLE.sub(one, str(value)).replace("$$", "$")


def operators_env() -> dict[str, str]:
    """.env.example with every placeholder replaced, as an operator must before starting."""
    return {
        k: f"{k.lower()}-7Qx2-not-a-default" if v.startswith("change-me") else v
        for k, v in env_example().items()
    }


def environment(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    given = service.get("environment", {})
    return {k: interpolate(v, env if env is not None else env_example()) for k, v in given.items()}


def cli_envvars(command: click.Command) -> set[str]:
    """Environment variables the CLI reads through click options (not Settings)."""
    found = {v for p in command.params for v in ([p.envvar] if isinstance(p.envvar, str) else [])}
    for sub in getattr(command, "commands", {}).values():
        found |= cli_envvars(sub)
    return found


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                out.append((volume["source"], volume["target"]))
        else:
            source, target = interpolate(volume, env_example()).split(":")[:2]
            if source.startswith((".", "/")):
                out.append((source, target))
    return out


# ---------------------------------------------------------------- variables and settings


def test_every_variable_the_file_uses_is_in_env_example_and_none_is_stale() -> None:
    used = {m.group(1) for s in strings(compose()) for m in VARIABLE.finditer(s)}
    example = env_example()
    assert used - example.keys() == set(), "add them to .env.example"
    assert example.keys() - used == set(), "stale entries in .env.example"


def test_env_example_is_not_a_real_env_file_and_env_is_never_committed() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()
    for key, value in env_example().items():
        if re.search("PASSWORD|SECRET", key):
            # empty: an optional feature left off (SMS_SECRET); never a real-looking value
            assert value == "" or value.startswith("change-me"), f"{key}: use a placeholder"
    # No BAOCAO_ names: baocao's Settings also read .env, and `make up` must not see them.
    assert not [k for k in env_example() if k.startswith("BAOCAO_")]


def test_baocao_services_run_real_commands_with_valid_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = baocao_services()
    assert set(found) == {"topics", "init", "worker", "warehouse", "notify", "brief"}
    known = {f"BAOCAO_{name.upper()}" for name in Settings.model_fields} | cli_envvars(main)
    for name, service in found.items():
        command = service["command"][0]
        assert command in main.commands, f"{name}: unknown command {command}"
        helped = CliRunner().invoke(main, [command, "--help"])
        assert helped.exit_code == 0, f"{name}: `baocao {command} --help` fails"
        env = environment(service, operators_env())
        unknown = sorted(k for k in env if k.startswith("BAOCAO_") and k not in known)
        assert not unknown, f"{name}: variables baocao never reads: {unknown}"
        # Read them the way the container will: from the environment, strings only.
        for key in [k for k in Settings.model_fields]:
            monkeypatch.delenv(f"BAOCAO_{key.upper()}", raising=False)
        for key, value in environment(service).items():  # .env.example copied unchanged
            monkeypatch.setenv(key, value)
        with pytest.raises(ValueError, match=r"CLICKHOUSE_PASSWORD"):
            Settings(_env_file=None)  # type: ignore[call-arg]
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.profile == "production"
        assert settings.warehouse == "http", "production uses a ClickHouse server"
        assert settings.bootstrap_servers() == ["kafka:9092"]
        assert settings.clickhouse_password.get_secret_value(), f"{name}: no ClickHouse password"


def test_init_refuses_grafanas_placeholder_passwords_before_grafana_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = services()
    assert found["grafana"]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    init, grafana = environment(found["init"]), environment(found["grafana"])
    # The very values Grafana is given, checked by init's production profile.
    assert init["BAOCAO_GRAFANA_ADMIN_PASSWORD"] == grafana["GF_SECURITY_ADMIN_PASSWORD"]
    assert (
        init["BAOCAO_GRAFANA_CLICKHOUSE_PASSWORD"] == grafana["BAOCAO_GRAFANA_CLICKHOUSE_PASSWORD"]
    )
    for key in Settings.model_fields:
        monkeypatch.delenv(f"BAOCAO_{key.upper()}", raising=False)
    for key, value in init.items():  # .env.example copied unchanged
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError) as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    for var in ("BAOCAO_GRAFANA_ADMIN_PASSWORD", "BAOCAO_GRAFANA_CLICKHOUSE_PASSWORD"):
        assert var in str(refused.value)


def test_files_third_party_services_read_get_their_variables() -> None:
    # ClickHouse reads <password from_env="X"/>; Grafana expands $X in provisioning files
    # ($__name is Grafana's own macro, never an environment variable).
    patterns = {"clickhouse": r'from_env="(\w+)"', "grafana": r"\$\{?([A-Z][A-Z0-9_]*)"}
    for name, pattern in patterns.items():
        service = services()[name]
        env = environment(service)
        for source, target in bind_mounts(service):
            if "provisioning" not in target and "users.d" not in target:
                continue
            path = ROOT / source
            for file in [path] if path.is_file() else sorted(path.rglob("*")):
                if file.is_file():
                    for var in re.findall(pattern, file.read_text("utf-8")):
                        assert env.get(var), f"{name}: {file.name} reads {var}, which is unset"


# ---------------------------------------------------------------- cross-references


def test_every_bind_mount_exists_and_every_named_volume_is_declared() -> None:
    declared = set(compose().get("volumes", {}))
    for name, service in services().items():
        for source, _ in bind_mounts(service):
            assert (ROOT / source).exists(), f"{name}: {source} is mounted but does not exist"
        for volume in service.get("volumes", []):
            source = interpolate(volume, env_example()).split(":")[0]
            if isinstance(volume, str) and not source.startswith((".", "/")):
                assert source in declared, f"{name}: undeclared volume {volume}"


def test_files_baocao_reads_or_writes_are_mounted_into_its_container() -> None:
    for name, service in baocao_services().items():
        env = environment(service)
        targets = [target for _, target in bind_mounts(service)]
        for var in ("BAOCAO_REGISTRY_PATH", "BAOCAO_DATASETS_PATH"):  # read: a bind mount
            if var in env:
                assert env[var] in targets, f"{name}: {var}={env[var]} is not mounted"
        volumes = [str(v).split(":")[1] for v in service.get("volumes", [])]
        # written: kept on a volume
        for var in ("BAOCAO_DATA_DIR", "BAOCAO_NOTIFY_DEAD_LETTER_PATH", "BAOCAO_BRIEF_DIR"):
            if var in env:
                assert any(env[var].startswith(v) for v in volumes), f"{name}: {var} is lost"


def test_no_two_services_publish_the_same_host_port() -> None:
    seen: dict[str, list[tuple[str, str]]] = {}  # host port -> (address, service)
    for name, service in services().items():
        ports = service.get("ports", [])
        if ports:
            assert service.get("deploy", {}).get("replicas", 1) == 1, f"{name}: replicas clash"
        for port in ports:
            parts = str(port).split(":")
            ip, host = (parts[0], parts[1]) if len(parts) == 3 else ("0.0.0.0", parts[0])
            for other_ip, other in seen.get(host, []):
                assert "0.0.0.0" not in (ip, other_ip) and ip != other_ip, f"{name}, {other}"
            seen.setdefault(host, []).append((ip, name))


def test_every_dependency_exists_with_a_condition_it_can_meet() -> None:
    found = services()
    for name, service in found.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in found, f"{name} depends on unknown {target}"
            condition = spec["condition"]
            assert condition in CONDITIONS, f"{name}: bad condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in found[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert found[target].get("restart") == "no", f"{target} must be one-shot"
    for name in ("worker", "warehouse", "notify", "brief"):
        needs = found[name]["depends_on"]
        assert needs["topics"]["condition"] == "service_completed_successfully"
        assert needs["init"]["condition"] == "service_completed_successfully"
    assert found["init"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert found["init"]["command"] == ["init"] and found["init"]["restart"] == "no"


def test_clickhouse_is_healthy_only_once_the_others_can_reach_it() -> None:
    # On a first boot the image serves 127.0.0.1 only (a temporary server creating the
    # user and database): a loopback probe would pass before any other container could
    # connect. So the probe uses the address baocao and Grafana use.
    found = services()
    probe = " ".join(found["clickhouse"]["healthcheck"]["test"])
    url = re.search(r"https?://([\w.-]+):(\d+)/ping", probe)
    assert url, probe
    host, port = url.group(1), int(url.group(2))
    assert host in found, f"{host} is not a service name"
    for name in baocao_services():
        used = urlsplit(environment(found[name])["BAOCAO_CLICKHOUSE_URL"])
        assert (used.hostname, used.port) == (host, port), name
    datasources = ROOT / "dashboards/provisioning/datasources/clickhouse.yaml"
    grafana = yaml.safe_load(datasources.read_text())["datasources"][0]["jsonData"]
    assert (grafana["host"], grafana["port"]) == (host, port)


def test_long_running_services_with_a_port_have_a_healthcheck_on_a_real_route() -> None:
    found = services()
    for name in ("kafka", "clickhouse", "grafana", "warehouse"):
        assert "healthcheck" in found[name], name
    check = found["warehouse"]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"], "the baocao image has no curl"
    compile(check[3], "healthcheck", "exec")  # the probe is valid Python
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/-]+)", check[3])
    assert url is not None
    port, path = url.groups()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert int(port) == settings.http_port
    assert f"127.0.0.1:{port}:{port}" in found["warehouse"]["ports"]
    routes = [f.read_text() for f in (ROOT / "baocao").glob("*.py")]
    assert any(f'"{path}"' in text for text in routes), f"the service has no route {path}"


# ---------------------------------------------------------------- images and topics


def test_third_party_images_are_pinned_to_exact_versions() -> None:
    for name, service in services().items():
        image = service.get("image", "")
        if image == BAOCAO_IMAGE:
            built_here = "build" in service or service.get("pull_policy") == "never"
            assert built_here, f"{name}: {BAOCAO_IMAGE} is built here, never pulled"
            continue
        assert re.match(r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$", image), (
            f"{name}: pin {image!r} to an exact version"
        )


def test_the_baocao_image_is_built_by_one_service_and_only_run_by_the_others() -> None:
    # Several services building one tag race in Compose's parallel (bake) build.
    builders = [name for name, service in services().items() if "build" in service]
    assert builders == ["init"]
    found = baocao_services()
    assert found["init"]["pull_policy"] == "build"  # `up` builds before creating containers
    for name, service in found.items():
        if name != "init":
            assert service.get("pull_policy") == "never", f"{name}: would pull {BAOCAO_IMAGE}"


def test_kafka_keeps_its_log_on_its_volume_under_a_fixed_cluster_id() -> None:
    kafka = services()["kafka"]
    env = {k: str(v) for k, v in kafka["environment"].items()}
    volumes = dict(reversed(str(v).split(":")[:2]) for v in kafka["volumes"])  # target: source
    for log_dir in env["KAFKA_LOG_DIRS"].split(","):
        on = [src for target, src in volumes.items() if (log_dir + "/").startswith(target + "/")]
        assert on, f"{log_dir} is inside the container: lost on `down` or an image bump"
        assert on[0] in compose()["volumes"], f"{log_dir}: not a named volume"
    # The volume is formatted with this id; another id on a later start refuses the data.
    cluster = env["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster + "==")) == 16, "a `kafka-storage random-uuid`"
    # Not the image's fallback nor Kafka's documentation example.
    assert cluster not in {"5L6g3nShT-eMCtK--X86sw", "4L6g3nShT-eMCtK--X86sw"}


def test_topics_are_declared_never_auto_created_and_workers_fit_the_partitions() -> None:
    found = services()
    assert found["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert found["topics"]["command"] == ["create-topics"]
    partitions = int(environment(found["worker"])["BAOCAO_PARTITIONS"])
    assert found["worker"]["deploy"]["replicas"] <= partitions
    for name in baocao_services():  # one partition count for every producer and consumer
        assert environment(found[name])["BAOCAO_PARTITIONS"] == str(partitions)


def test_workers_keep_their_tables_in_rocksdb_each_in_its_own_directory() -> None:
    worker = services()["worker"]
    env = environment(worker)
    state_dir = env["BAOCAO_WORKER_STATE_DIR"]
    settings = Settings(worker_store=env["BAOCAO_WORKER_STORE"], worker_state_dir=state_dir)
    assert settings.worker_store == "rocksdb"
    assert state_dir.startswith("/var/lib/baocao/")  # the image's user may write there
    # A volume there would be shared by the replicas, and RocksDB allows one process.
    mounts = [str(v).split(":")[1] for v in worker.get("volumes", []) if ":" in str(v)]
    assert not any(state_dir.startswith(m) for m in mounts), mounts


def test_the_image_contains_every_package() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in {p.split(".")[0] for p in packages}:  # subpackages come with their parent
        assert f"COPY {package} ./{package}" in dockerfile


def test_grafana_mounts_the_generated_dashboards_and_provisioning() -> None:
    grafana = services()["grafana"]
    # id@version: without a version Grafana installs (and auto-updates to) the newest.
    plugin = grafana["environment"]["GF_PLUGINS_PREINSTALL_SYNC"]
    assert re.fullmatch(r"grafana-clickhouse-datasource@\d+\.\d+\.\d+", plugin), plugin
    assert plugin.split("@")[1] in (ROOT / "docs/operations.md").read_text(), "say which one"
    assert "GF_INSTALL_PLUGINS" not in grafana["environment"], "deprecated since Grafana 12.1"
    mounts = dict(bind_mounts(grafana))
    for local in mounts:
        assert (ROOT / local).exists(), f"{local} is mounted but does not exist"
    provider = yaml.safe_load((ROOT / "dashboards/provisioning/dashboards/baocao.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] in mounts.values()


def test_the_dashboards_provider_finds_nothing_but_dashboards() -> None:
    # Grafana's file provider walks its path recursively, skips folders named .*, and
    # loads every *.json as a dashboard (pkg/services/provisioning/dashboards/
    # file_reader.go); any other JSON there is an error at every rescan.
    grafana = services()["grafana"]
    provider = yaml.safe_load((ROOT / "dashboards/provisioning/dashboards/baocao.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    (local,) = [src for src, target in bind_mounts(grafana) if target == path]
    found = []
    for folder, subfolders, files in os.walk(ROOT / local):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        found += [Path(folder, f) for f in files if f.endswith(".json")]
    assert sorted(f.name for f in found) == sorted(f"{d.uid}.json" for d in DASHBOARDS)
    for file in found:
        board = json.loads(file.read_text("utf-8"))
        assert board["uid"] == file.stem and board["panels"], file
    users = services()["clickhouse"]["volumes"]
    assert any("grafana-readonly.xml" in v for v in users), "read-only user not mounted"
