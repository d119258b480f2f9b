"""Point a level-profile file's errors at a line and column a person can open."""

from __future__ import annotations

import re
import tomllib

from pydantic import ValidationError

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.]+)\s*\]\]")
_TABLE = re.compile(r"^\s*\[")


def syntax_position(exc: tomllib.TOMLDecodeError) -> tuple[int, int, str]:
    """Line, column and message of a TOML syntax error (Python 3.11 puts them in the text)."""
    text = str(exc)
    found = _POSITION.search(text)
    if found is None:
        return 1, 1, text
    return int(found.group(1)), int(found.group(2)), text[: found.start()]


def describe(exc: ValidationError, text: str, data: object) -> tuple[int, int, str, str]:
    """Line, column, path ("profiles[1] (qd-4800) › edges") and message of the first error."""
    errors = exc.errors()
    loc = tuple(errors[0]["loc"])
    message = errors[0]["msg"] + (f" (+{len(errors) - 1})" if len(errors) > 1 else "")
    line, column = locate(text, loc)
    return line, column, _where(loc, data), message


def _where(loc: tuple[int | str, ...], data: object) -> str:
    parts: list[str] = []
    cursor = data
    for step in loc:
        if isinstance(step, int) and parts and isinstance(cursor, list) and step < len(cursor):
            cursor = cursor[step]
            label = cursor.get("id") or cursor.get("name") if isinstance(cursor, dict) else None
            parts[-1] += f"[{step}]" + (f" ({label})" if isinstance(label, str) else "")
            continue
        parts.append(str(step))
        cursor = cursor.get(step) if isinstance(cursor, dict) else None
    return " › ".join(parts) or "(tệp / file)"


def locate(text: str, loc: tuple[int | str, ...]) -> tuple[int, int]:
    """Where ``loc`` is written, for files that use [[profiles]]-style table headers.

    The deepest array-of-tables entry the path names is found by counting headers; a key
    under it is then looked for in that table. Anything else points at the entry (or line 1).
    """
    wanted: list[tuple[str, int]] = []
    steps = list(loc)
    prefix = ""
    while len(steps) >= 2 and isinstance(steps[0], str) and isinstance(steps[1], int):
        prefix = f"{prefix}.{steps[0]}" if prefix else steps[0]
        wanted.append((prefix, steps[1]))
        steps = steps[2:]
    key = steps[0] if steps and isinstance(steps[0], str) else None
    lines = text.splitlines()
    seen: dict[str, int] = {}
    depth, found = 0, 0
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header is None:
            continue
        table = header.group(1)
        seen = {t: n for t, n in seen.items() if not t.startswith(table + ".")}
        seen[table] = seen.get(table, -1) + 1
        if depth < len(wanted) and wanted[depth] == (table, seen[table]):
            depth, found = depth + 1, number
            if depth == len(wanted):
                break
    if depth < len(wanted) or not found:
        return (found or 1), 1
    if key is not None:
        key_line = re.compile(rf"^(\s*){re.escape(key)}\s*=")
        for number in range(found, len(lines)):
            if _TABLE.match(lines[number]):
                break
            match = key_line.match(lines[number])
            if match:
                return number + 1, len(match.group(1)) + 1
    return found, 1
