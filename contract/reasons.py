"""One bilingual reason: why something was refused or flagged, and where.

Every stage gives reasons in this one shape: a submission refused before the broker
(``SubmissionError``), an API error body, a rule a report broke (``Violation``, which
adds a severity and keeps its wire name ``rule_id`` for ``code``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Reason(BaseModel):
    """One reason, addressed to a field where possible, in Vietnamese and English."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    code: str = Field(description="machine-readable, e.g. 'unknown_unit'")
    field: str = Field("", description="where: a field, or 'line 3: values.cases_new'")
    message_vi: str
    message_en: str
    fields: list[str] = Field(default_factory=list, description="every field involved")

    @classmethod
    def of(cls, code: str, field: str, vi: str, en: str) -> Reason:
        """The common case: one field, no others involved."""
        return cls(code=code, field=field, message_vi=vi, message_en=en)

    def at(self, prefix: str) -> Reason:
        """The same reason with ``prefix`` put before its field ("line 3: " + field)."""
        return Reason(
            code=self.code,
            field=prefix + self.field,
            message_vi=self.message_vi,
            message_en=self.message_en,
            fields=self.fields,
        )
