"""Read a report from a text message, and write the short ASCII replies; no I/O here.

``BC 27/7 CM=3 CD=1 PCR=420 DT=3``: a command word (``contract/sms_format.py`` says
which dataset it is), then an optional date, then keys and numbers. Case and diacritics
never matter; spaces, commas, ``;``, ``:`` and ``=`` all separate. A key that ends in a
letter may be glued to its number (``CM3``); one that ends in a digit needs a separator
(``F1=12``): the format file refuses keys that would make a glued pair a guess.

A message is either understood whole or refused with every reason at once, each in
Vietnamese and English (``contract.reasons.Reason``), so a person with a basic phone
fixes everything in one more message. Replies are ASCII (``ascii_text``): many basic
phones show diacritics badly, and an SMS of plain GSM characters holds 160 of them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from contract.errors import ConfigError
from contract.reasons import Reason
from contract.sms_format import DATE_WORD, Command, SmsFormat, closest, fold
from producers.http.models import ReceiptOut

#: An SMS of GSM characters; replies never exceed it.
SMS_LENGTH = 160
#: More digits than any count can have (the contract's largest is 10 digits).
MAX_DIGITS = 12
SEPARATORS = re.compile(r"[\s,;:=]+")
DATE = re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2}|\d{4}))?$")
ISO_DATE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
#: What looks like a try at a date: digits with / . or - between them ("27/7", "1.200").
DATE_LIKE = re.compile(r"^\d+(?:[/.-]\d*)+$")
SHORT_ID = re.compile(r"^[0-9a-f]{4,32}$")


@dataclass(frozen=True)
class SmsReport:
    """A message understood as a report: its dataset, day and values."""

    command: Command
    report_date: date
    values: dict[str, int]
    dated: bool  # the message gave the date (else: today)

    def fields(self, unit_id: str, report_id: str) -> dict[str, Any]:
        """The report as a JSON submission carries it (``Desk.prepare``'s fields)."""
        return {
            "report_id": report_id,
            "dataset": self.command.dataset,
            "unit_id": unit_id,
            "report_date": self.report_date.isoformat(),
            "values": dict(self.values),
        }


@dataclass(frozen=True)
class StatusQuery:
    """``TT 1a2b``: what became of a report; no id: of the unit's latest."""

    short_id: str | None


@dataclass(frozen=True)
class HelpQuery:
    """``HD``: the commands and an example; ``HD BC``: the keys of one command."""

    command: Command | None


Parsed = SmsReport | StatusQuery | HelpQuery | list[Reason]


def parse(text: str, fmt: SmsFormat, today: date) -> Parsed:
    """A report, a status question, or every reason the message cannot be read."""
    tokens = [t.rstrip(".") for t in SEPARATORS.split(fold(text).strip())]
    tokens = [t for t in tokens if t]
    if not tokens:
        example = next((c.example for c in fmt.commands if c.example), "")
        return [
            Reason.of(
                "empty_message",
                "text",
                "Tin nhắn trống." + (f" Ví dụ: {example}" if example else ""),
                "The message is empty." + (f" Example: {example}" if example else ""),
            )
        ]
    word, rest = tokens[0], tokens[1:]
    if word == fmt.status_word:
        return _status(rest, fmt)
    if word == fmt.help_word:
        if not rest:
            return HelpQuery(None)
        asked = fmt.command_named(rest[0])
        return HelpQuery(asked) if asked is not None else [_unknown_command(rest[0], fmt)]
    command = fmt.command_named(word)
    if command is None:
        return [_unknown_command(word, fmt)]
    return _Reading(command, today).read(rest)


def _status(rest: list[str], fmt: SmsFormat) -> StatusQuery | list[Reason]:
    if not rest:
        return StatusQuery(None)
    short = rest[0].replace("-", "").lower()
    if len(rest) > 1 or not SHORT_ID.match(short):
        given = " ".join(rest)
        word = fmt.status_word
        return [
            Reason.of(
                "bad_short_id",
                "text",
                f"Mã '{given}' không đúng; gửi {word} và mã 4 ký tự trong tin trả lời.",
                f"'{given}' is not a receipt code; send {word} and the 4-character code "
                "of the reply.",
            )
        ]
    return StatusQuery(short)


def help_reply(fmt: SmsFormat, query: HelpQuery) -> str:
    """The commands with an example, or one command's keys, in one text message."""
    command = query.command
    if command is None:
        words = ", ".join(c.word for c in fmt.commands)
        example = next((c.example for c in fmt.commands if c.example), "")
        return fit(
            f"Lenh: {words}. VD: {example}. {fmt.status_word} <ma>: trang thai. "
            f"{fmt.help_word} <lenh>: cac ma, vd {fmt.help_word} {fmt.commands[0].word}"
        )
    keys = " ".join(command.keys)
    return fit(f"{command.word} [ngay] ma=so: {keys}")


def _unknown_command(word: str, fmt: SmsFormat) -> Reason:
    hint = next(iter(closest(word, fmt.words)), None)
    listed = ", ".join([*(c.word for c in fmt.commands), fmt.status_word, fmt.help_word])
    return Reason.of(
        "unknown_command",
        "command",
        f"Không có lệnh {word}" + (f", có phải {hint}?" if hint else ".") + f" Lệnh: {listed}",
        f"Unknown command {word}"
        + (f"; did you mean {hint}?" if hint else ".")
        + f" Commands: {listed}",
    )


class _Reading:
    """One pass over a report's tokens, collecting values and every problem."""

    def __init__(self, command: Command, today: date) -> None:
        self.command = command
        self.today = today
        self.values: dict[str, int] = {}
        self.typed: dict[str, str] = {}  # value key -> the SMS key that gave it
        self.reasons: list[Reason] = []

    def read(self, tokens: list[str]) -> SmsReport | list[Reason]:
        word = self.command.word
        day, dated = self.today, False
        if tokens and tokens[0] == DATE_WORD:
            tokens = tokens[1:]
            if not tokens or not DATE_LIKE.match(tokens[0]):
                self.reasons.append(_bad_date(DATE_WORD))
        if tokens and DATE_LIKE.match(tokens[0]):
            found = self.date(tokens[0])
            day, dated = (found, True) if found is not None else (day, False)
            tokens = tokens[1:]
        pending: str | None = None  # a key waiting for its number
        orphan_ok = False  # the number after an unknown key is its value, not an orphan
        for token in tokens:
            if pending is not None:
                if _number_like(token):
                    self.assign(pending, token)
                    pending = None
                    continue
                self.reasons.append(_missing(pending))
                pending = None
            if _number_like(token):
                if orphan_ok:
                    orphan_ok = False
                elif "/" in token or ("-" in token[1:] and DATE_LIKE.match(token)):
                    self.reasons.append(
                        Reason.of(
                            "date_not_first",
                            "date",
                            f"Ngày {token} phải viết ngay sau {word}.",
                            f"The date {token} goes right after {word}.",
                        )
                    )
                else:
                    self.reasons.append(
                        Reason.of(
                            "value_without_key",
                            token,
                            f"Số {token} không có mã đi trước (viết số liền, không dấu "
                            "chấm, phẩy).",
                            f"The number {token} has no key before it (write numbers "
                            "without dots or commas).",
                        )
                    )
                continue
            orphan_ok = False
            if token in self.command.keys:
                pending = token
                continue
            glued = self.glued(token)
            if glued is not None:
                self.assign(*glued)
                continue
            orphan_ok = self.unknown(token)
        if pending is not None:
            self.reasons.append(_missing(pending))
        if not self.values and not self.reasons:
            example = self.command.example
            self.reasons.append(
                Reason.of(
                    "no_values",
                    "values",
                    f"Chưa có số liệu sau {word}." + (f" Ví dụ: {example}" if example else ""),
                    f"No values after {word}." + (f" Example: {example}" if example else ""),
                )
            )
        if self.reasons:
            return self.reasons
        return SmsReport(self.command, day, self.values, dated)

    def date(self, token: str) -> date | None:
        match = DATE.match(token) or ISO_DATE.match(token)
        if match is None:
            self.reasons.append(_bad_date(token))
            return None
        day, month, year = match.group("d", "m", "y")
        try:
            if year is None:
                found = _nearest(int(day), int(month), self.today)
            else:
                found = date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
        except ValueError:
            self.reasons.append(_bad_date(token))
            return None
        if found > self.today:
            shown = f"{found:%d/%m/%Y}"
            self.reasons.append(
                Reason.of(
                    "future_date",
                    "date",
                    f"Ngày {shown} chưa tới (hôm nay {self.today:%d/%m/%Y}).",
                    f"{shown} is in the future (today is {self.today:%d/%m/%Y}).",
                )
            )
            return None
        return found

    def glued(self, token: str) -> tuple[str, str] | None:
        """``CM3`` → (CM, 3): the longest letter-ending key followed by a number try."""
        best: tuple[str, str] | None = None
        for key in self.command.keys:
            rest = token[len(key) :]
            if (
                key[-1].isalpha()
                and token.startswith(key)
                and _number_like(rest)
                and (best is None or len(key) > len(best[0]))
            ):
                best = (key, rest)
        return best

    def unknown(self, token: str) -> bool:
        """Say what is wrong with a token that is no key; True if it carried no number."""
        for key in self.command.keys:
            rest = token[len(key) :]
            if key[-1].isdigit() and token.startswith(key) and _number_like(rest):
                self.reasons.append(
                    Reason(
                        code="needs_separator",
                        field=key,
                        message_vi=f"Viết {key}={rest} (mã {key} tận cùng là số nên cần dấu =).",
                        message_en=f"Write {key}={rest} (the key {key} ends in a digit: "
                        "it needs =).",
                        fields=[self.command.keys[key]],
                    )
                )
                return False
        match = re.match(r"^(.*?[A-Z])([-+]?\d[\d.]*)?$", token)
        name = match.group(1) if match else token
        hints = closest(name, list(self.command.keys), n=2)
        word = self.command.word
        self.reasons.append(
            Reason.of(
                "unknown_key",
                name,
                f"{word} không có mã {name}"
                + (f", có phải {' hoặc '.join(hints)}?" if hints else "."),
                f"{word} has no key {name}"
                + (f"; did you mean {' or '.join(hints)}?" if hints else "."),
            )
        )
        return match is None or match.group(2) is None

    def assign(self, key: str, text: str) -> None:
        target = self.command.keys[key]
        if target in self.typed:
            first = self.typed[target]
            same = first == key
            self.reasons.append(
                Reason(
                    code="repeated_key",
                    field=key,
                    message_vi=f"Mã {key} gửi hai lần."
                    if same
                    else f"{key} và {first} là cùng một chỉ tiêu, gửi một lần.",
                    message_en=f"The key {key} is given twice."
                    if same
                    else f"{key} and {first} are the same value; give it once.",
                    fields=[target],
                )
            )
            return
        self.typed[target] = key
        value = _count(key, text, target)
        if isinstance(value, Reason):
            self.reasons.append(value)
        else:
            self.values[target] = value


def _number_like(token: str) -> bool:
    """A try at a number: starts with a digit, or a sign and a digit."""
    return bool(token) and (token[0].isdigit() or (token[0] in "+-" and token[1:2].isdigit()))


def _count(key: str, text: str, target: str) -> int | Reason:
    def reason(code: str, vi: str, en: str) -> Reason:
        return Reason(code=code, field=key, message_vi=vi, message_en=en, fields=[target])

    if text.startswith("-") and text[1:].isdigit():
        return reason(
            "negative_value", f"{key}: số âm {text} không hợp lệ.", f"{key}: {text} is negative."
        )
    digits = text.lstrip("+")
    if not digits.isascii() or not digits.isdigit():
        hint_vi = " (viết liền, không dấu chấm)" if "." in text else ""
        hint_en = " (write it without dots)" if "." in text else ""
        return reason(
            "not_a_number",
            f"{key}: '{text}' không phải số{hint_vi}.",
            f"{key}: '{text}' is not a number{hint_en}.",
        )
    if len(digits.lstrip("0")) > MAX_DIGITS:
        return reason("too_large", f"{key}: số quá lớn.", f"{key}: the number is too large.")
    return int(digits)


def _missing(key: str) -> Reason:
    return Reason.of("missing_value", key, f"{key}: thiếu số.", f"{key}: the number is missing.")


def _bad_date(token: str) -> Reason:
    return Reason.of(
        "bad_date",
        "date",
        f"Ngày '{token}' không đúng; viết 27/7 hoặc 27/07/2021.",
        f"'{token}' is not a date; write 27/7 or 27/07/2021.",
    )


def _nearest(day: int, month: int, today: date) -> date:
    """A day and month without a year: the one nearest to today (31/12 sent on 1/1)."""
    found: list[date] = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            found.append(date(year, month, day))
        except ValueError:
            continue  # 29/2 outside a leap year
    if not found:
        raise ValueError(f"no date {day}/{month}")
    return min(found, key=lambda d: (abs((d - today).days), d > today))


def check_examples(fmt: SmsFormat, today: date) -> None:
    """Every command's example must parse as a report of its command (ConfigError)."""
    for command in fmt.commands:
        if not command.example:
            continue
        found = parse(command.example, fmt, today)
        if isinstance(found, list):  # an example's date may be after today: that is fine
            found = [r for r in found if r.code != "future_date"] or SmsReport(
                command, today, {}, True
            )
        if not isinstance(found, SmsReport) or found.command is not command:
            why = "; ".join(r.message_en for r in found) if isinstance(found, list) else ""
            raise ConfigError(
                f"ví dụ của lệnh {command.word} không đọc được / the example of command "
                f"{command.word} does not parse: {command.example!r} {why}".rstrip()
            )


# ---------------------------------------------------------------- replies (ASCII, ≤ 160)

_PUNCTUATION = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "≤": "<=", "≥": ">="}
)


def ascii_text(text: str) -> str:
    """``text`` without diacritics (đ is d), in ASCII; anything else left out."""
    plain = unicodedata.normalize("NFKD", text.translate(_PUNCTUATION))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = plain.replace("đ", "d").replace("Đ", "D")
    return plain.encode("ascii", "ignore").decode("ascii")


def fit(text: str, limit: int = SMS_LENGTH) -> str:
    """``text`` in ASCII, cut at a word to at most ``limit`` characters (".." if cut)."""
    text = " ".join(ascii_text(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 2]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + ".."


def short_id(report_id: str) -> str:
    """The receipt code a reply gives: the report_id's first four hex digits."""
    return report_id.replace("-", "")[:4].lower()


def refused_reply(reasons: list[Reason], lead: str = "Tin sai") -> str:
    """Why a message was not taken: as many reasons as fit."""
    return _with_reasons(f"{lead}:", reasons)


_VALUE_KEY = re.compile(r"\b[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?\b")


def in_keys(text: str, command: Command | None) -> str:
    """A rule's words with its value keys as the SMS keys: "[CD = 9; CM = 5]"."""
    if command is None:
        return text
    first: dict[str, str] = {}
    for key, target in command.keys.items():
        first.setdefault(target, key)
    return _VALUE_KEY.sub(lambda m: first.get(m.group(0), m.group(0)), text)


def _with_reasons(lead: str, reasons: list[Reason], command: Command | None = None) -> str:
    """``lead`` and each reason while they fit, then how many more there are."""
    text = lead
    for i, r in enumerate(reasons):
        part = " " + " ".join(ascii_text(in_keys(r.message_vi, command)).split())
        left = len(reasons) - i - 1
        tail = f" (+{left} loi)" if left else ""
        if i > 0 and len(text) + len(part) + len(tail) > SMS_LENGTH:
            return fit(f"{text} (+{left + 1} loi)")
        text += part
    return fit(text)


def receipt_reply(fmt: SmsFormat, receipt: ReceiptOut) -> str:
    """The receipt, and the stream's decision when it is known, in one short message."""
    command = fmt.command_for(receipt.dataset)
    word = command.word if command else receipt.dataset
    head = f"{word} {receipt.report_date:%d/%m}"
    code = short_id(receipt.report_id)
    ask = f'Kiem tra: gui "{fmt.status_word} {code}"'
    if receipt.status == "received":
        return fit(f"{head} DA NHAN (ma {code}). {ask}")
    if receipt.status == "queued":
        return fit(f"{head} DA LUU (ma {code}), se gui khi may chu san sang. {ask}")
    if receipt.status == "rejected":
        return _with_reasons(f"{head} BI TU CHOI (ma {code}):", list(receipt.errors), command)
    when = {"on_time": ", DUNG HAN", "late": ", TRE HAN"}.get(receipt.timeliness or "", "")
    revision = f", lan {receipt.revision}" if receipt.revision else ""
    text = f"{head} DA CHAP NHAN{when} (ma {code}{revision})."
    if receipt.warnings:
        text += f" Canh bao: {in_keys(receipt.warnings[0].message_vi, command)}"
    return fit(text)


def not_taken_reply(report: SmsReport, reasons: list[Reason]) -> str:
    """A report the service refused before storing it (a rule, the correction policy)."""
    head = f"{report.command.word} {report.report_date:%d/%m} KHONG NHAN:"
    return _with_reasons(head, reasons, report.command)
