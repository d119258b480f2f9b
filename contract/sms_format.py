"""SMS report commands per dataset, loaded from ``sms.toml`` and checked against the catalog.

A message is a command word, an optional date, then keys and numbers:
``BC 27/7 CM=3 CD=1 PCR=420 DT=3``. This module holds the format (which word means which
dataset, which key which value key) and refuses a file that would make a message mean
two things: a key or word repeated once case and diacritics are dropped, a key that is
not a value key of its dataset, or a key another key could be read into ("F" and "F1":
is "F12" F=12 or F1=2?). Each problem is said in Vietnamese and English, with where it is.
The parser is ``producers/sms.py``; docs/sms.md is the guide.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.level_toml import syntax_position

BUILTIN_SMS = "sms.toml"
#: The word a message may put before its date ("BC ngày 27/7 ..."); no key may be it.
DATE_WORD = "NGAY"
WORD = re.compile(r"^[A-Z][A-Z0-9]*$")
_TOP = {"status_word", "help_word", "commands"}
_COMMAND = {"word", "aliases", "dataset", "example", "keys"}
# Letters NFKD does not take apart: the Vietnamese đ, and the Icelandic eth it looks like.
_UNSPLIT = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def fold(text: str) -> str:
    """``text`` for matching: diacritics dropped (đ is d), upper case. "cđ" → "CD"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNSPLIT))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def closest(word: str, choices: list[str], n: int = 1) -> list[str]:
    """The ``n`` choices most like ``word`` (a typo's likely meaning), best first."""
    return difflib.get_close_matches(word, choices, n=n, cutoff=0.5)


@dataclass(frozen=True)
class Command:
    """One dataset's SMS command: its words and what each key means."""

    word: str
    dataset: str
    keys: Mapping[str, str] = field(repr=False)  # folded SMS key -> value key ("m.option")
    aliases: tuple[str, ...] = ()
    example: str = ""

    @property
    def words(self) -> tuple[str, ...]:
        return (self.word, *self.aliases)


@dataclass(frozen=True)
class SmsFormat:
    """Every command, and the word that asks for a report's status."""

    status_word: str
    commands: tuple[Command, ...]
    help_word: str = "HD"
    _by_word: dict[str, Command] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for command in self.commands:
            for word in command.words:
                self._by_word[word] = command

    def command_named(self, word: str) -> Command | None:
        """The command a (folded) word names, by its word or an alias."""
        return self._by_word.get(word)

    def command_for(self, dataset: str) -> Command | None:
        return next((c for c in self.commands if c.dataset == dataset), None)

    @property
    def words(self) -> list[str]:
        """Every command word, the status word and the help word, as a person may write them."""
        return [*self._by_word, self.status_word, self.help_word]

    @classmethod
    def load(cls, catalog: Catalog, path: Path | None = None) -> SmsFormat:
        """Read and check a format file; without a path, the built-in ``sms.toml``."""
        source = str(path) if path is not None else f"contract/data/{BUILTIN_SMS}"
        try:
            if path is None:
                raw = resources.files("contract").joinpath("data", BUILTIN_SMS).read_bytes()
            else:
                raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _invalid(
                source, [(f"không đọc được tệp: {exc}", f"cannot read the file: {exc}")]
            ) from exc
        return cls.parse(text, catalog, source)

    @classmethod
    def parse(cls, text: str, catalog: Catalog, source: str = "sms.toml") -> SmsFormat:
        """Build the format from TOML text; ConfigError lists every problem in both languages."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line, column, what = syntax_position(exc)
            where = f"dòng {line}, cột {column} / line {line}, column {column}"
            raise _invalid(
                source, [(f"{where}: sai cú pháp TOML ({what})", f"{where}: bad TOML ({what})")]
            ) from exc
        checker = _Checker(catalog)
        built = checker.build(data)
        if checker.problems or built is None:
            raise _invalid(source, checker.problems)
        return built


def _invalid(source: str, problems: list[tuple[str, str]]) -> ConfigError:
    lines = [
        f"định dạng tin nhắn {source} không hợp lệ / SMS format {source} is invalid:",
        *(f"  - {vi}\n    {en}" for vi, en in problems),
    ]
    return ConfigError("\n".join(lines))


class _Checker:
    """Collect every problem of a format file, not only the first."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.problems: list[tuple[str, str]] = []

    def say(self, where: str, vi: str, en: str) -> None:
        self.problems.append((f"{where}: {vi}", f"{where}: {en}"))

    def build(self, data: dict[str, Any]) -> SmsFormat | None:
        for extra in sorted(set(data) - _TOP):
            self.say(extra, "mục không được hỗ trợ", "unknown setting")
        status = self.word("status_word", data.get("status_word", "TT"))
        helper = self.word("help_word", data.get("help_word", "HD"))
        raw = data.get("commands")
        if not isinstance(raw, list) or not raw:
            self.say("commands", "cần ít nhất một [[commands]]", "needs at least one [[commands]]")
            return None
        commands = [
            c for i, item in enumerate(raw) if (c := self.read_command(i, item)) is not None
        ]
        taken: dict[str, str] = {} if status is None else {status: "status_word"}
        if helper is not None:
            if helper in taken:
                self.say("help_word", f"từ {helper} đã dùng", f"the word {helper} is already used")
            taken.setdefault(helper, "help_word")
        seen_datasets: dict[str, str] = {}
        for i, command in enumerate(commands):
            where = f"commands[{i}] ({command.word})"
            for word in command.words:
                if word in taken:
                    self.say(
                        where,
                        f"từ {word} đã dùng ở {taken[word]}",
                        f"the word {word} is already used by {taken[word]}",
                    )
                taken.setdefault(word, where)
            if command.dataset in seen_datasets:
                self.say(
                    where,
                    f"biểu mẫu {command.dataset} đã có lệnh ở {seen_datasets[command.dataset]}",
                    f"dataset {command.dataset} already has a command at "
                    f"{seen_datasets[command.dataset]}",
                )
            seen_datasets.setdefault(command.dataset, where)
        if status is None or helper is None or len(commands) != len(raw):
            return None
        return SmsFormat(status, tuple(commands), helper)

    def word(self, where: str, value: object) -> str | None:
        if not isinstance(value, str) or not WORD.match(fold(value)):
            self.say(
                where,
                f"{value!r} không phải một từ (chữ cái rồi chữ/số, không dấu cách)",
                f"{value!r} is not a word (a letter, then letters or digits, no spaces)",
            )
            return None
        return fold(value)

    def read_command(self, i: int, item: object) -> Command | None:
        where = f"commands[{i}]"
        if not isinstance(item, dict):
            self.say(where, "phải là một bảng [[commands]]", "must be a [[commands]] table")
            return None
        for extra in sorted(set(item) - _COMMAND):
            self.say(f"{where} › {extra}", "mục không được hỗ trợ", "unknown setting")
        word = self.word(f"{where} › word", item.get("word"))
        if word is not None:
            where = f"{where} ({word})"
        raw_aliases = item.get("aliases", [])
        if not isinstance(raw_aliases, list):
            self.say(f"{where} › aliases", "phải là danh sách", "must be a list")
            raw_aliases = []
        aliases = [self.word(f"{where} › aliases", a) for a in raw_aliases]
        code = item.get("dataset")
        dataset = self.catalog.get(code) if isinstance(code, str) else None
        if dataset is None:
            known = ", ".join(d.code for d in self.catalog.datasets)
            self.say(
                f"{where} › dataset",
                f"không có biểu mẫu {code!r} (có: {known})",
                f"no dataset {code!r} (known: {known})",
            )
        example = item.get("example", "")
        if not isinstance(example, str):
            self.say(f"{where} › example", "phải là chuỗi", "must be a string")
            example = ""
        keys = self.keys(where, item.get("keys"), dataset.code if dataset else None)
        if word is None or dataset is None or keys is None or None in aliases:
            return None
        clean = tuple(a for a in aliases if a is not None)
        return Command(word, dataset.code, keys, clean, example)

    def keys(self, where: str, raw: object, dataset_code: str | None) -> dict[str, str] | None:
        where = f"{where} › keys"
        if not isinstance(raw, dict) or not raw:
            self.say(where, "cần bảng [commands.keys] có mã", "needs a [commands.keys] table")
            return None
        dataset = self.catalog.get(dataset_code) if dataset_code else None
        allowed = sorted(self.catalog.allowed_keys(dataset)) if dataset else []
        keys: dict[str, str] = {}
        given: dict[str, str] = {}
        ok = True
        for name, target in raw.items():
            key = fold(name)
            at = f"{where} › {name}"
            if not WORD.match(key):
                self.say(
                    at,
                    "mã phải là chữ cái rồi chữ/số (không dấu chấm, gạch)",
                    "a key is a letter, then letters or digits (no dots or dashes)",
                )
                ok = False
                continue
            if key == DATE_WORD:
                self.say(
                    at,
                    f"{DATE_WORD} dành cho ngày (BC {DATE_WORD} 27/7)",
                    f"{DATE_WORD} is kept for the date (BC {DATE_WORD} 27/7)",
                )
                ok = False
            if key in keys:
                self.say(
                    at,
                    f"trùng với mã {given[key]} khi bỏ dấu và chữ hoa",
                    f"the same key as {given[key]} once case and diacritics are dropped",
                )
                ok = False
            if not isinstance(target, str):
                self.say(at, "phải là mã chỉ tiêu (chuỗi)", "must be a value key (a string)")
                ok = False
                continue
            if dataset is not None and target not in allowed:
                hint = next(iter(closest(target, allowed)), None)
                self.say(
                    at,
                    f"{target!r} không phải chỉ tiêu của {dataset.code}"
                    + (f" (có phải {hint}?)" if hint else ""),
                    f"{target!r} is not a value key of {dataset.code}"
                    + (f" (did you mean {hint}?)" if hint else ""),
                )
                ok = False
            keys.setdefault(key, target)
            given.setdefault(key, name)
        for key in keys:
            if not key[-1].isalpha():
                continue  # a key ending in a digit is never glued to its number
            for other in keys:
                if other.startswith(key) and other[len(key) :][:1].isdigit():
                    self.say(
                        f"{where} › {given[other]}",
                        f"bắt đầu bằng mã {given[key]} và một chữ số: "
                        f"'{other}5' là {key}={other[len(key) :]}5 hay {other}=5?",
                        f"starts with the key {given[key]} and a digit: "
                        f"is '{other}5' {key}={other[len(key) :]}5 or {other}=5?",
                    )
                    ok = False
        return keys if ok else None
