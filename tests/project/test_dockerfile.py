"""The Dockerfile, checked step by step as far as possible without a Docker engine.

A build would fail (or produce a broken image) if a COPY source were missing or ignored,
if `pip` lacked a file the package build reads, or if the entrypoint named no command;
each of those is checked here against the repository itself.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from baocao.cli import main

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())


@dataclass
class Stage:
    base: str
    name: str = ""
    steps: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)

    def args(self, instruction: str) -> list[str]:
        return [a for i, a in self.steps if i == instruction]


def stages() -> list[Stage]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())  # join continued lines
    out: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, args = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            base, _, name = args.partition(" AS ")
            out.append(Stage(base.strip(), name.strip()))
        else:
            out[-1].steps.append((instruction.upper(), args.strip()))
    return out


def copies(stage: Stage) -> list[tuple[list[str], str, str]]:
    """Each COPY as (sources, destination, --from stage or '')."""
    out = []
    for args in stage.args("COPY"):
        words = args.split()
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        source = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), "")
        out.append((paths[:-1], paths[-1], source))
    return out


def ignored(path: str) -> bool:
    """Is ``path`` (or a folder above it) excluded by .dockerignore?"""
    patterns = [
        p.strip()
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(Path(prefix).name, bare)
            ):
                return True
    return False


def builder() -> Stage:
    (found,) = [
        s
        for s in stages()
        if any(re.search(r"pip (wheel|install) .* \.$", r) for r in s.args("RUN"))
    ]
    return found


def test_every_base_image_is_pinned_to_an_exact_tag() -> None:
    names = {s.name for s in stages() if s.name}
    for stage in stages():
        if stage.base in names:
            continue
        assert re.match(r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$", stage.base), (
            f"pin {stage.base} to an exact version"
        )


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    seen: list[str] = []
    for stage in stages():
        for sources, _, from_stage in copies(stage):
            if from_stage:
                assert from_stage in seen, f"COPY --from={from_stage}: no earlier stage"
                continue
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
        seen.append(stage.name)


def test_the_build_stage_copies_every_file_the_package_build_reads() -> None:
    copied = {s.rstrip("/") for sources, _, _ in copies(builder()) for s in sources}
    assert "pyproject.toml" in copied
    assert PYPROJECT["project"]["readme"] in copied  # setuptools reads it for metadata
    setuptools = PYPROJECT["tool"]["setuptools"]
    for package in setuptools["packages"]:
        folder = package.replace(".", "/")
        assert folder.split("/")[0] in copied, f"package {package} is not copied"
        assert (ROOT / folder).is_dir(), f"package {package} has no folder"
        modules = [p for p in (ROOT / folder).glob("*.py") if not ignored(str(p.relative_to(ROOT)))]
        assert modules or package in setuptools["package-data"], f"{package} would be empty"
    for package, globs in setuptools["package-data"].items():
        folder = ROOT / package.replace(".", "/")
        for pattern in globs:
            files = [p for p in folder.glob(pattern) if p.is_file()]
            assert files, f"{package}: {pattern} matches nothing"
            for file in files:
                assert not ignored(str(file.relative_to(ROOT))), f"{file} is dockerignored"


def test_the_runtime_installs_this_project_from_the_built_wheels() -> None:
    runtime, build = stages()[-1], builder()
    ((sources, dest),) = [(src, d) for src, d, s in copies(runtime) if s == build.name]
    assert any(f"--wheel-dir {sources[0]}" in r for r in build.args("RUN")), "wheels not built"
    (install,) = [r for r in runtime.args("RUN") if "pip install" in r]
    assert "--no-index" in install and f"--find-links {dest}" in install
    assert re.search(rf"\s{PYPROJECT['project']['name']}(\s|$)", install), "installs baocao"


def test_the_runtime_runs_as_a_user_who_owns_its_data_folder() -> None:
    runtime = stages()[-1]
    users = runtime.args("USER")
    assert users and users[-1] not in {"root", "0"}
    last_user = max(i for i, (ins, _) in enumerate(runtime.steps) if ins == "USER")
    last_run = max(i for i, (ins, _) in enumerate(runtime.steps) if ins == "RUN")
    assert last_user > last_run, "nothing may run as root after USER"
    workdir = runtime.args("WORKDIR")[-1]
    user = users[-1]
    assert any(f"-o {user}" in r and workdir in r for r in runtime.args("RUN")), (
        f"{workdir} must belong to {user}: the services write SQLite files there"
    )
    # docker-compose.yml mounts the services' volumes there, so they start owned by the user.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    warehouse = compose["services"]["warehouse"]
    assert warehouse["environment"]["BAOCAO_DATA_DIR"] == workdir
    assert f"baocao-data:{workdir}" in warehouse["volumes"]


def test_the_entrypoint_is_the_baocao_command_and_its_default_works() -> None:
    runtime = stages()[-1]
    entrypoint = json.loads(runtime.args("ENTRYPOINT")[-1])
    assert entrypoint == ["baocao"]
    assert PYPROJECT["project"]["scripts"]["baocao"] == "baocao.cli:main"
    default = json.loads(runtime.args("CMD")[-1]) if runtime.args("CMD") else []
    result = CliRunner().invoke(main, default)
    assert result.exit_code == 0, result.output
    for command in ("worker", "warehouse", "notify", "init", "create-topics"):
        assert command in main.commands, f"the image's roles need `baocao {command}`"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    for path in (".env", ".git/config", ".venv/bin/python", "var/warehouse", "tests/contract"):
        assert ignored(path), f"{path} would be sent to the Docker daemon"
    for path in ("baocao/cli.py", "contract/data/registry-demo.json", "pyproject.toml"):
        assert not ignored(path)
