"""pyproject.toml declares every file of the installed packages, so setuptools is quiet.

A file that is not a module, in a directory that is not a listed package, makes
setuptools print a screen of "Package would be ignored" per directory on every
``pip install -e .`` (and it would stop installing it one day). Setuptools' own
discovery lists the directories Python could import; each one holding files must be
a listed package, and each of its files a module or matched by its package-data.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
DATA: dict[str, list[str]] = SETUPTOOLS.get("package-data", {})
TOP = sorted({p.split(".")[0] for p in PACKAGES})


def files_of(package: str) -> list[Path]:
    folder = ROOT / package.replace(".", "/")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".pyc")


def discovered() -> list[str]:
    """Every importable directory under the top-level packages, as setuptools finds it."""
    found = find_namespace_packages(
        where=str(ROOT),
        include=[name for top in TOP for name in (top, f"{top}.*")],
        exclude=["*__pycache__*"],
    )
    return sorted(found)


def test_every_directory_with_files_is_a_listed_package() -> None:
    assert TOP == ["baocao", "contract", "dashboards", "producers", "sinks", "streams", "warehouse"]
    unlisted = [p for p in discovered() if files_of(p) and p not in PACKAGES]
    assert not unlisted, f"add to [tool.setuptools] packages: {unlisted}"


def test_every_file_of_a_package_is_a_module_or_declared_data() -> None:
    undeclared = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in files_of(package)
        if path.suffix != ".py" and not any(fnmatch(path.name, g) for g in DATA.get(package, []))
    ]
    assert not undeclared, f"declare in [tool.setuptools.package-data]: {undeclared}"


def test_package_data_names_listed_packages_and_no_nested_paths() -> None:
    """A glob reaching into a subdirectory ("static/*") is what made setuptools warn."""
    assert set(DATA) <= set(PACKAGES), set(DATA) - set(PACKAGES)
    nested = {p: g for p, globs in DATA.items() for g in globs if "/" in g}
    assert not nested, nested
