"""One root exception for baocao; each stage derives its own errors from it.

Every exception baocao raises on purpose, by the module that defines it
(tests/contract/test_errors.py keeps this drawing and the code in step)::

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

from contract.reasons import Reason


class BaocaoError(Exception):
    """Root of every error baocao raises on purpose."""


class ConfigError(BaocaoError):
    """A configuration file (datasets, registry, settings) is invalid."""


class SubmissionError(BaocaoError):
    """A submission was refused before it reached the broker.

    Carries every reason found, each in Vietnamese and English, so a submitter sees
    all of them at once instead of fixing one per attempt.
    """

    def __init__(self, reasons: list[Reason]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(f"{r.field}: {r.message_en}" for r in reasons))
