"""Registered phone numbers per unit, and the reports each sent by SMS; SQLite, next to the tokens.

An SMS names no unit: the sender's number does. ``baocao phones add --unit 173 --number
0912345678`` ties a number to its unit; the SMS webhook (``producers/http/sms_routes.py``)
takes reports only from numbers found here. Numbers are kept in one form, E.164
(``+84912345678``), whatever way they were typed or a gateway sends them: 0912 345 678,
+84912345678, 84912345678, (+84) 912-345-678, 0084912345678.

The same file keeps which report_id each number sent, so ``TT 1a2b`` finds the report
behind a reply's four-character code, for the unit that sent it and no other.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PHONES_FILE = "phones.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS phones (
    number   TEXT PRIMARY KEY,
    unit_id  TEXT NOT NULL,
    name     TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS phones_unit ON phones (unit_id);
CREATE TABLE IF NOT EXISTS sms_reports (
    report_id   TEXT PRIMARY KEY,
    unit_id     TEXT NOT NULL,
    number      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sms_reports_unit ON sms_reports (unit_id, received_at);
"""
#: Vietnamese numbers after +84: mobiles are 9 digits (03x, 05x, 07x, 08x, 09x when
#: dialled at home), fixed lines 10 digits starting with 2 (02x).
_VIETNAM = re.compile(r"^(?:[35789]\d{8}|2\d{9})$")
_PUNCTUATION = re.compile(r"[\s().\-/]")


def phones_path(tokens_file: Path) -> Path:
    """The phone book lives in the directory of the token file."""
    return tokens_file.with_name(PHONES_FILE)


def normalise(raw: str) -> str | None:
    """A phone number in E.164 (``+84912345678``), or None if it is not one.

    Vietnamese numbers in any usual spelling; another country's only with ``+`` or ``00``.
    """
    compact = _PUNCTUATION.sub("", raw)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not re.fullmatch(r"[0-9]{8,16}", digits):
        return None
    if not plus and digits.startswith("00"):
        digits, plus = digits[2:], True
    if plus:
        international = digits
    elif digits.startswith("0"):
        international = "84" + digits[1:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        international = digits
    elif _VIETNAM.match(digits):  # a gateway that dropped the leading 0
        international = "84" + digits
    else:
        return None
    if international.startswith("84"):
        national = international[2:]
        if national.startswith("0"):  # "(+84) 0912 345 678": the 0 written anyway
            national = national[1:]
        return f"+84{national}" if _VIETNAM.match(national) else None
    return f"+{international}" if 8 <= len(international) <= 15 else None


def national(number: str) -> str:
    """How a Vietnamese person writes an E.164 number: +84912345678 → 0912345678."""
    return "0" + number[3:] if number.startswith("+84") else number


@dataclass(frozen=True)
class Phone:
    """A registered number and the unit it reports for."""

    number: str  # E.164
    unit_id: str
    name: str
    added_at: str


class PhoneBook:
    """Add, find, list and remove numbers; remember which report each number sent."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def add(self, number: str, unit_id: str, name: str, now: datetime) -> tuple[Phone, bool]:
        """Register ``number`` (E.164) for a unit; (phone, False) if it was already there.

        Raises ValueError, in both languages, when the number belongs to another unit.
        """
        with self._lock:
            found = self._get(number)
            if found is not None and found.unit_id != unit_id:
                raise ValueError(
                    f"số {national(number)} đã đăng ký cho đơn vị {found.unit_id}; hãy xoá ở đó "
                    f"trước / {number} is registered to unit {found.unit_id}; remove it there "
                    "first"
                )
            if found is not None:
                if name and name != found.name:
                    self._db.execute("UPDATE phones SET name = ? WHERE number = ?", (name, number))
                    found = Phone(found.number, found.unit_id, name, found.added_at)
                return found, False
            phone = Phone(number, unit_id, name, now.isoformat())
            self._db.execute(
                "INSERT INTO phones (number, unit_id, name, added_at) VALUES (?, ?, ?, ?)",
                (phone.number, phone.unit_id, phone.name, phone.added_at),
            )
            return phone, True

    def get(self, number: str) -> Phone | None:
        with self._lock:
            return self._get(number)

    def _get(self, number: str) -> Phone | None:
        row = self._db.execute(
            "SELECT number, unit_id, name, added_at FROM phones WHERE number = ?", (number,)
        ).fetchone()
        return Phone(*row) if row else None

    def remove(self, number: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM phones WHERE number = ?", (number,))
        return cur.rowcount > 0

    def list(self, unit_id: str | None = None) -> list[Phone]:
        query = "SELECT number, unit_id, name, added_at FROM phones"
        args: tuple[str, ...] = ()
        if unit_id is not None:
            query, args = query + " WHERE unit_id = ?", (unit_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY unit_id, number", args).fetchall()
        return [Phone(*row) for row in rows]

    # ------------------------------------------------------------ reports sent by SMS
    def record(self, report_id: str, unit_id: str, number: str, now: datetime) -> None:
        """Remember that ``number`` sent ``report_id`` (a re-send keeps the first row)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO sms_reports (report_id, unit_id, number, received_at) "
                "VALUES (?, ?, ?, ?)",
                (report_id, unit_id, number, now.isoformat()),
            )

    def find(self, unit_id: str, short_id: str | None) -> str | None:
        """The unit's latest SMS report whose id starts with ``short_id`` (None: the latest)."""
        prefix = (short_id or "").lower()
        with self._lock:
            row = self._db.execute(
                "SELECT report_id FROM sms_reports WHERE unit_id = ? "
                "AND substr(replace(report_id, '-', ''), 1, ?) = ? "
                "ORDER BY received_at DESC, rowid DESC LIMIT 1",
                (unit_id, len(prefix), prefix),
            ).fetchone()
        return str(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
