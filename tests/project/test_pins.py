"""Every dependency is pinned once, in constraints.txt, for `make` and the image alike.

The pins must cover everything pyproject.toml pulls in (directly or through another
package), at the versions this environment was tested with; a dependency added or
upgraded without `make constraints` fails here, with the command that fixes it.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REFRESH = "run `make constraints` (docs/operations.md, Pins)"


def pins() -> dict[str, str]:
    """Return name -> version for every line of constraints.txt."""
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version.strip(), f"{line!r}: pin an exact version"
            found[canonicalize_name(name)] = version.strip()
    return found


def closure() -> dict[str, str]:
    """Return name -> installed version of everything baocao[dev] needs here."""
    wanted = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    wanted += [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]]
    seen: dict[str, str] = {}
    while wanted:
        req = wanted.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        try:
            dist = distribution(req.name)
        except PackageNotFoundError as exc:
            raise AssertionError(f"{req.name} is not installed: `make` first") from exc
        seen[name] = dist.version
        for extra in [None, *sorted(req.extras)]:
            for sub in dist.requires or []:
                parsed = Requirement(sub)
                if not parsed.marker or parsed.marker.evaluate({"extra": extra or ""}):
                    wanted.append(parsed)
    return seen


def test_everything_pyproject_pulls_in_is_pinned_at_the_tested_version() -> None:
    pinned = pins()
    assert "baocao" not in pinned, "the project itself is never pinned"
    needed = closure()
    missing = sorted(set(needed) - set(pinned))
    assert not missing, f"not pinned: {missing}; {REFRESH}"
    drifted = {n: (pinned[n], v) for n, v in needed.items() if pinned[n] != v}
    assert not drifted, f"pinned != installed (pin, installed): {drifted}; {REFRESH}"


def test_make_and_the_image_install_through_the_same_pins() -> None:
    makefile = (ROOT / "Makefile").read_text()
    stamp = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.M)
    assert stamp and {"pyproject.toml", "constraints.txt"} <= set(stamp.group(1).split())
    assert '--constraint constraints.txt -e ".[dev]"' in makefile
    dockerfile = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    copies = [line for line in dockerfile.splitlines() if line.startswith("COPY")]
    assert any("constraints.txt" in line.split()[1:-1] for line in copies)
    (wheel,) = [line for line in dockerfile.splitlines() if "pip wheel" in line]
    assert "--constraint constraints.txt" in wheel


def test_the_build_stage_can_compile_what_has_no_wheel_and_the_runtime_cannot() -> None:
    # faust-streaming publishes no arm64 wheel: its sdist compiles Cython speedups.
    stages = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.M)[1:]
    build, runtime = stages[0], stages[-1]
    assert re.search(r"apt-get install .*\bgcc\b.*\blibc6-dev\b", build.replace("\\\n", " "))
    assert build.index("gcc") < build.index("pip wheel")
    assert "gcc" not in runtime
