"""Tokens carry roles: `baocao tokens create --role`, and token files made before roles."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from baocao.cli import main
from producers.http.auth import TokenStore
from tests.support.api_app import NOW


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {"BAOCAO_DATA_DIR": str(tmp_path), "BAOCAO_CHDB_PATH": str(tmp_path / "wh")}
    result = CliRunner().invoke(main, ["tokens", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_read_token_for_a_province_and_none_for_a_commune(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "create", "--unit", "19", "--role", "read")
    assert code == 0, err
    token = out.strip()
    cred = TokenStore(tmp_path / "tokens.sqlite").check(token)
    assert cred is not None and cred.roles == ("read",)
    assert "(read)" in err
    code, _, err = run(tmp_path, "create", "--unit", "03386", "--role", "read")
    assert code != 0 and "read tokens are for provinces and districts" in err
    code, out, _ = run(tmp_path, "create", "--unit", "173")  # submit, as before roles
    assert TokenStore(tmp_path / "tokens.sqlite").check(out.strip()).roles == ("submit",)  # type: ignore[union-attr]
    code, out, _ = run(tmp_path, "list")
    assert "roles=read" in out and "roles=submit" in out


def test_a_token_file_from_before_roles_keeps_its_tokens_able_to_submit(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite"
    token = "bc_0ld0ld00_secret-made-before-roles"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE tokens (token_id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, "
        "name TEXT NOT NULL, unit_id TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"
    )
    db.execute(
        "INSERT INTO tokens VALUES ('0ld0ld00', ?, 'old', '173', ?, NULL)",
        (hashlib.sha256(token.encode()).hexdigest(), NOW.isoformat()),
    )
    db.commit()
    db.close()
    cred = TokenStore(path).check(token)  # opening the file adds the column
    assert cred is not None and cred.may("submit") and not cred.may("read")
