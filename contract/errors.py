"""One root exception for baocao; each stage derives its own errors from it.

Every exception baocao raises on purpose, by the module that defines it
(tests/unit/test_errors.py keeps this drawing and the code in step)::

    BaocaoError
    ├── ApiError                    producers.http.errors: a 4xx with its reasons
    ├── Bilingual                   contract.signal_rules (also a ValueError, for pydantic)
    ├── BrokerError                 baocao.broker
    ├── CompatError                 streams.compat.versions
    ├── ConfigError                 contract.errors
    │   ├── ConfigFileError         contract.population
    │   ├── ScenarioError           producers.replay
    │   └── SignalConfigError       contract.signal_config
    ├── DashboardError              dashboards.errors
    │   ├── MacroError              dashboards.errors
    │   └── VariableError           dashboards.errors
    │       └── OutOfBounds         baocao.viewer
    ├── DeliveryFailed              sinks.notify.channels
    ├── GaveUp                      baocao.supervise
    ├── KafkaUnavailable            baocao.kafka_broker
    ├── NoBrief                     sinks.brief.maker
    ├── PublishError                producers.errors
    ├── ServiceError                baocao.cli_brief
    ├── SinkError                   sinks.errors
    ├── StateDirInUse               streams.state
    ├── StateWriteFailed            streams.app
    ├── SubmissionError             contract.errors
    └── WarehouseError              warehouse.errors
        ├── RowError                warehouse.errors
        └── WarehouseUnavailable    warehouse.errors
"""

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
