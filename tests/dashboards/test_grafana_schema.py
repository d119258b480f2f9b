"""Every dashboard JSON Grafana loads, checked against Grafana's own schema by ``tsc``.

Grafana cannot run here, so the check uses its published contract: the ``@grafana/schema``
npm package of the Grafana version docker-compose.yml pins. Each JSON becomes a .ts file
that declares it ``satisfies`` that ``Dashboard`` (tools/grafana-schema/dashboard.ts
says where JSON departs from the TypeScript types, and why), and ``tsc --noEmit
--strict`` checks them all in one run, with a planted-fault dashboard beside them so the
check is known to bite. ``npm ci`` runs once, when node_modules is missing or stale.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "grafana-schema"
DASHBOARDS = ROOT / "dashboards"
#: The .ts line of a JSON line: the JSON starts on the second line.
HEADER = 'import type { GrafanaDashboard } from "{checker}";\nexport const dashboard = '
DIAGNOSTIC = re.compile(r"^(?P<file>\S+\.ts)\((?P<line>\d+),(?P<col>\d+)\): (?P<text>.*)$")
CANARY = "planted-faults"


def grafana_dashboards() -> list[Path]:
    """Every *.json under dashboards/: Grafana's provider walks the folder and loads each."""
    return sorted(DASHBOARDS.rglob("*.json"))


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is missing: apt-get install -y nodejs npm"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return found


def _installed() -> bool:
    """Whether node_modules holds exactly the versions package-lock.json names."""
    lock = json.loads((TOOL / "package-lock.json").read_text("utf-8"))
    for where, entry in lock["packages"].items():
        if not where:
            continue
        manifest = TOOL / where / "package.json"
        if not manifest.exists():
            return False
        if json.loads(manifest.read_text("utf-8")).get("version") != entry["version"]:
            return False
    return True


@pytest.fixture(scope="module")
def tsc() -> list[str]:
    """The command that runs the pinned TypeScript compiler, after ``npm ci`` if needed."""
    node, npm = _require("node"), _require("npm")
    # One `npm ci` at a time: several developers' runs share this directory.
    fd = os.open(TOOL, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not _installed():
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=TOOL,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci in {TOOL} failed:\n{done.stdout}{done.stderr}")
    finally:
        os.close(fd)
    return [node, str(TOOL / "node_modules" / "typescript" / "bin" / "tsc")]


def _planted_faults() -> dict[str, object]:
    """A dashboard with one fault per kind the check must catch (and the generator once had)."""
    base: dict[str, Any] = json.loads(grafana_dashboards()[0].read_text("utf-8"))
    # tsc reports one fault per object literal: one fault per variable
    variable = base["templating"]["list"][0]
    null_all = {**variable, "allValue": None}  # the schema: a string or absent
    unknown = {**variable, "name": "other", "defnition": ""}  # a field Grafana does not know
    base["templating"]["list"] = [null_all, unknown]
    panel = dict(base["panels"][0])
    panel["fieldConfig"] = {
        "defaults": {"mappings": [{"type": "valu", "options": {}}]},  # no such mapping type
        "overrides": [],
    }
    base["panels"] = [panel]
    return base


def _write(path: Path, dashboard: object, checker: Path) -> None:
    text = json.dumps(dashboard, ensure_ascii=False, indent=2)
    head = HEADER.replace("{checker}", str(checker.with_suffix("")))
    path.write_text(f"{head}{text} satisfies GrafanaDashboard;\n", "utf-8")


@pytest.fixture(scope="module")
def diagnostics(tsc: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """tsc's messages by source (a dashboards/ path, or the planted-fault dashboard)."""
    work = tmp_path_factory.mktemp("grafana-schema")
    sources: dict[str, str] = {}
    for n, json_path in enumerate(grafana_dashboards()):
        ts = work / f"d{n}.ts"
        _write(ts, json.loads(json_path.read_text("utf-8")), TOOL / "dashboard.ts")
        sources[ts.name] = str(json_path.relative_to(ROOT))
    _write(work / f"{CANARY}.ts", _planted_faults(), TOOL / "dashboard.ts")
    sources[f"{CANARY}.ts"] = CANARY
    config = {"extends": str(TOOL / "tsconfig.json"), "files": sorted(sources)}
    (work / "tsconfig.json").write_text(json.dumps(config), "utf-8")
    done = subprocess.run(
        [*tsc, "-p", str(work), "--noEmit", "--strict", "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in done.stdout.splitlines():
        m = DIAGNOSTIC.match(line)
        if m:
            name = Path(m["file"]).name
            where = sources.get(name, m["file"])
            # JSON line n is .ts line n + 1 (the import comes first).
            current = found.setdefault(where, [])
            current.append(f"{where}:{int(m['line']) - 1}:{m['col']}: {m['text']}")
        elif current is not None and line.startswith(" "):
            current[-1] += "\n" + line
        elif line.strip():
            found.setdefault("tsc", []).append(line)
    if done.returncode != 0 and not found:
        found["tsc"] = [done.stdout + done.stderr]
    return found


def test_the_schema_package_is_the_pinned_grafanas_and_pinned_exactly() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    image = compose["services"]["grafana"]["image"]
    grafana = image.rpartition(":")[2]
    wanted = json.loads((TOOL / "package.json").read_text("utf-8"))["dependencies"]
    assert wanted["@grafana/schema"] == grafana, f"{image} needs @grafana/schema {grafana}"
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin {version!r} exactly"
    lock = json.loads((TOOL / "package-lock.json").read_text("utf-8"))
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_every_generated_dashboard_is_among_those_checked() -> None:
    from dashboards.catalog import DASHBOARDS as DEFINED

    checked = {p.name for p in grafana_dashboards()}
    assert {f"{d.uid}.json" for d in DEFINED} <= checked


def test_every_dashboard_satisfies_grafanas_schema(diagnostics: dict[str, list[str]]) -> None:
    problems = [m for where, ms in diagnostics.items() if where != CANARY for m in ms]
    assert not problems, "tsc against @grafana/schema:\n" + "\n".join(problems)


def test_the_check_catches_each_planted_fault(diagnostics: dict[str, list[str]]) -> None:
    text = "\n".join(diagnostics.get(CANARY, []))
    assert "'null' is not assignable" in text, text
    assert "'\"defnition\"' does not exist" in text, text
    assert "'\"valu\"' is not assignable" in text, text
