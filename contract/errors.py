"""One root exception for baocao; each stage derives its own errors from it."""

from __future__ import annotations


class BaocaoError(Exception):
    """Root of every error baocao raises on purpose."""


class ConfigError(BaocaoError):
    """A configuration file (datasets, registry, settings) is invalid."""


class SubmissionError(BaocaoError):
    """A submission was refused before it reached the broker.

    Carries every problem found, each with a Vietnamese and English message, so a
    submitter sees all of them at once instead of fixing one per attempt.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message_en}" for p in problems))


class Problem:
    """One reason a submission is refused, addressed to a field where possible."""

    __slots__ = ("code", "field", "message_en", "message_vi")

    def __init__(self, code: str, field: str, message_vi: str, message_en: str) -> None:
        self.code = code
        self.field = field
        self.message_vi = message_vi
        self.message_en = message_en

    def __repr__(self) -> str:
        return f"Problem({self.code!r}, {self.field!r}, {self.message_en!r})"

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }
