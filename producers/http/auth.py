"""Per-unit API tokens: created once, stored hashed in SQLite, revocable; and who may submit what.

A token is ``bc_<id>_<secret>`` with a 32-byte random secret. Only the SHA-256 of the whole
token is stored: the secret is high-entropy, so a plain hash cannot be brute-forced, and
a stolen database does not let anyone submit.

Each token has roles, as DHIS2 separates authorities: ``submit`` (the API and the form),
``read`` (the viewer, briefs and histories of its unit and the units below it,
baocao/access.py) and ``approve`` (review the reports of the units below it,
contract/approval_rules.py); a token file from before roles holds ``submit`` tokens. A
viewer session (the sign-in cookie) is stored the same way: only the hash of its random
id, tied to the token it was opened with, so revoking the token ends its sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from contract.registry import Registry, Unit, UnitKind

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id   TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    roles      TEXT NOT NULL DEFAULT 'submit'
)
"""
SESSIONS = """
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY,
    token_id     TEXT NOT NULL,
    expires_at   TEXT NOT NULL
)
"""
#: Token files made before roles existed: every token there could submit.
ADD_ROLES = "ALTER TABLE tokens ADD COLUMN roles TEXT NOT NULL DEFAULT 'submit'"

Role = Literal["submit", "read", "approve"]
ROLES: tuple[Role, ...] = ("submit", "read", "approve")

_COLUMNS = "t.token_id, t.name, t.unit_id, t.created_at, t.revoked_at, t.roles"


@dataclass(frozen=True)
class Credential:
    """Whom a valid token belongs to: a name (recorded as submitted_by), a unit, roles."""

    token_id: str
    name: str
    unit_id: str
    created_at: str
    revoked_at: str | None = None
    roles: tuple[Role, ...] = ("submit",)

    def may(self, role: Role) -> bool:
        return role in self.roles


def _credential(row: tuple[str, ...]) -> Credential:
    token_id, name, unit_id, created_at, revoked_at, roles = row
    held = roles.split(",")
    return Credential(
        token_id, name, unit_id, created_at, revoked_at, tuple(r for r in ROLES if r in held)
    )


def _utc(at: datetime) -> str:
    """An instant as text that sorts in time order (one zone for every stored instant)."""
    return at.astimezone(UTC).isoformat()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Create, check, list and revoke tokens in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection, shared by request threads behind a lock: SQLite is fast enough
        # for token checks and this avoids per-request connects.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._db.execute(SESSIONS)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(tokens)")}
        if "roles" not in columns:
            self._db.execute(ADD_ROLES)
        self._lock = threading.Lock()

    def create(
        self, unit_id: str, name: str, now: datetime, roles: tuple[Role, ...] = ("submit",)
    ) -> tuple[Credential, str]:
        """Make a token for a unit; return it with the secret text, which is never stored."""
        unknown = set(roles) - set(ROLES)
        if not roles or unknown:
            raise ValueError(f"roles must be among {ROLES}, got {roles}")
        token_id = secrets.token_hex(4)
        token = f"bc_{token_id}_{secrets.token_urlsafe(32)}"
        cred = Credential(token_id, name, unit_id, now.isoformat(), roles=roles)
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens (token_id, token_hash, name, unit_id, created_at, roles) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_id, _hash(token), name, unit_id, cred.created_at, ",".join(roles)),
            )
        return cred, token

    def check(self, token: str) -> Credential | None:
        """Return the credential of a valid, unrevoked token, else None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM tokens t WHERE token_hash = ? AND revoked_at IS NULL",
                (_hash(token),),
            ).fetchone()
        return _credential(row) if row else None

    def open_session(self, token_id: str, expires: datetime) -> str:
        """A new session of a token until ``expires``: its random id, stored hashed."""
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?)",
                (_hash(session), token_id, _utc(expires)),
            )
        return session

    def session(self, session: str, now: datetime) -> Credential | None:
        """The credential of a session not expired, whose token is not revoked."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM sessions s JOIN tokens t USING (token_id) "
                "WHERE s.session_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL",
                (_hash(session), _utc(now)),
            ).fetchone()
        return _credential(row) if row else None

    def close_session(self, session: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE session_hash = ?", (_hash(session),))

    def revoke(self, token_id: str, now: datetime) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (now.isoformat(), token_id),
            )
        return cur.rowcount > 0

    def list(self) -> list[Credential]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tokens t ORDER BY created_at"
            ).fetchall()
        return [_credential(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def may_submit(holder: Unit, target: Unit) -> bool:
    """Decide whether a token of ``holder`` may submit for ``target``."""
    if holder.unit_id == target.unit_id:
        return True
    if holder.kind == UnitKind.PROVINCE:
        return target.province_id == holder.province_id
    if holder.kind == UnitKind.DISTRICT:
        return target.kind == UnitKind.COMMUNE and target.district_id == holder.unit_id
    return False  # communes and checkpoints report only for themselves


def covered_units(holder: Unit, registry: Registry) -> list[Unit]:
    """Units a token of ``holder`` may submit for, the holder first."""
    if holder.kind == UnitKind.PROVINCE:
        pool = registry.filter(province=holder.province_id)
    elif holder.kind == UnitKind.DISTRICT:
        pool = [holder, *registry.children(holder.unit_id)]
    else:
        pool = [holder]
    others = [u for u in pool if u.unit_id != holder.unit_id and may_submit(holder, u)]
    return [holder, *sorted(others, key=lambda u: (u.kind != UnitKind.DISTRICT, u.unit_id))]
