"""Signal rule models (one per rule kind) as ``signals.toml`` writes them.

``contract/signal_config.py`` loads them per dataset and checks their metrics against the
catalog; ``streams/detectors.py`` evaluates them. Defaults are the documented sources'
(docs/signals.md); a problem is worded in Vietnamese and English (``Bilingual``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contract.errors import BaocaoError

RULE_NAMES = ("quiet_days", "unknown_source", "ewma", "ears_c2")
Severity = Literal["warning", "critical"]
_CODE = r"^[a-z][a-z0-9_]*$"


class Bilingual(BaocaoError, ValueError):
    """A validation problem worded in both languages (pydantic keeps it in ``ctx``; a
    validator must raise a ValueError for pydantic to report it)."""

    def __init__(self, vi: str, en: str) -> None:
        self.vi = vi
        self.en = en
        super().__init__(en)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(Config):
    enabled: bool = True
    metric: str = Field(pattern=_CODE)
    #: How messages name the metric; empty = the catalog's name (lower-cased).
    name_vi: str = ""
    name_en: str = ""

    @property
    def is_ratio(self) -> bool:
        """Whether ``metric`` names a ratio of two metrics rather than a metric."""
        return False

    def reads(self) -> set[str]:
        """Metric codes this rule reads from a day's values."""
        return {self.metric}

    def reach(self) -> int:
        """Days before the evaluated day this rule reads."""
        return 0


class QuietDaysRule(_Rule):
    """First positive value after at least ``quiet_days`` days without one."""

    rule: Literal["quiet_days"]
    quiet_days: int = Field(14, ge=1, le=366)
    severity: Severity = "critical"
    #: English singular ("the first community case"); empty = ``name_en``.
    name_en_one: str = ""

    def reach(self) -> int:
        return self.quiet_days  # older positives come from History.last_positive


class UnknownSourceRule(_Rule):
    """Any positive value of the metric (cases of unknown source) on a unit-day."""

    rule: Literal["unknown_source"]
    severity: Severity = "critical"
    name_en_one: str = ""


class _Detector(_Rule):
    """A statistical detector over a daily series: a metric, or a ratio in per cent."""

    baseline_days: int
    guard_days: int = Field(2, ge=0, le=60)
    min_baseline_days: int = Field(ge=3)
    sd_floor: float = Field(ge=0.0)
    numerator: str | None = Field(None, pattern=_CODE)
    denominator: str | None = Field(None, pattern=_CODE)
    #: A ratio's day counts only when its denominator reaches this (e.g. 50 tests).
    min_denominator: int = Field(1, ge=1)

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    def reads(self) -> set[str]:
        if self.numerator is not None and self.denominator is not None:
            return {self.numerator, self.denominator}
        return {self.metric}

    def reach(self) -> int:
        return self.baseline_days + self.guard_days

    @model_validator(mode="after")
    def _consistent(self) -> _Detector:
        if (self.numerator is None) != (self.denominator is None):
            raise Bilingual(
                "tỷ lệ cần cả tử số (numerator) và mẫu số (denominator)",
                "a ratio needs both numerator and denominator",
            )
        if self.min_baseline_days > self.baseline_days:
            raise Bilingual(
                f"min_baseline_days ({self.min_baseline_days}) lớn hơn baseline_days "
                f"({self.baseline_days})",
                f"min_baseline_days ({self.min_baseline_days}) exceeds baseline_days "
                f"({self.baseline_days})",
            )
        return self


class EwmaRule(_Detector):
    """NSSP-ESSENCE's EWMA (Rnssp ``alert_ewma``); defaults are ESSENCE's."""

    rule: Literal["ewma"]
    baseline_days: int = Field(28, ge=7, le=365)  # Rnssp alert_ewma refuses B < 7
    min_baseline_days: int = Field(7, ge=3)
    smoothing: tuple[float, ...] = (0.4, 0.9)
    warning_p: float = Field(0.05, gt=0.0, lt=0.5)
    critical_p: float = Field(0.01, gt=0.0, lt=0.5)
    #: ESSENCE's floor under the adjusted sigma: (w / t_0.95) * (a + b * (1 - w)^2).
    min_sigma: tuple[float, float] = (1.0, 0.5)
    sd_floor: float = Field(0.0, ge=0.0)

    @field_validator("smoothing")
    @classmethod
    def _smoothing_in_range(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not 1 <= len(value) <= 2:
            raise Bilingual(
                f"smoothing cần 1 hoặc 2 hệ số, nhận được {len(value)}",
                f"smoothing takes 1 or 2 coefficients, got {len(value)}",
            )
        for w in value:
            if not 0.0 < w <= 1.0:
                raise Bilingual(
                    f"hệ số làm trơn (smoothing) phải thuộc (0, 1], nhận được {w}",
                    f"smoothing must be in (0, 1], got {w}",
                )
        return value

    @model_validator(mode="after")
    def _p_order(self) -> EwmaRule:
        if self.critical_p >= self.warning_p:
            raise Bilingual(
                f"critical_p ({self.critical_p}) phải nhỏ hơn warning_p ({self.warning_p})",
                f"critical_p ({self.critical_p}) must be below warning_p ({self.warning_p})",
            )
        return self


class EarsC2Rule(_Detector):
    """CDC EARS C2: today against the mean and sd of 7 days ending 3 days ago."""

    rule: Literal["ears_c2"]
    baseline_days: int = Field(7, ge=3, le=365)
    min_baseline_days: int = Field(7, ge=3)
    threshold: float = Field(3.0, gt=0.0)
    critical_threshold: float | None = Field(None, gt=0.0)
    sd_floor: float = Field(0.5, gt=0.0)  # > 0: a constant baseline must not divide by 0


RuleConfig = Annotated[
    QuietDaysRule | UnknownSourceRule | EwmaRule | EarsC2Rule, Field(discriminator="rule")
]
