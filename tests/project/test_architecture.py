"""Stages import the shared contract and the warehouse, never each other; only the
composition root (``baocao/``) wires them. Read from every module's imports, lazy ones
included."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"contract", "warehouse", "producers", "streams", "sinks", "dashboards", "baocao"}
#: What each package may import of ours besides itself.
ALLOWED = {
    "contract": set(),
    "warehouse": {"contract"},
    "producers": {"contract", "warehouse"},
    "streams": {"contract", "warehouse"},
    "sinks": {"contract", "warehouse"},
    "dashboards": {"contract", "warehouse"},
}


def imported(path: Path) -> set[str]:
    """The top-level packages of ours that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_stage_imports_only_the_contract_and_the_warehouse(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(extra)
        for path in sorted((ROOT / package).rglob("*.py"))
        if (extra := imported(path) - ALLOWED[package] - {package})
    }
    assert wrong == {}, f"imports across stages (wire them in baocao/ instead): {wrong}"


def test_the_check_sees_a_crossing_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sinks.rows import x\n    import streams.app\n")
    assert imported(module) == {"sinks", "streams"}


def test_one_module_of_the_http_package_loads_without_the_whole_app() -> None:
    """producers/http/__init__ once imported the app, so importing its errors module went
    api -> views -> desk -> errors: a circle at load time."""
    code = "import sys, producers.http.errors; print('producers.http.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
