"""The pass-through plus one table write per event: the least a stateful worker costs.

Dedupe and revision numbering need a ledger entry per unit, dataset and day, and a
Faust table persists every write as a changelog record. So a worker that decides one
report per Kafka message pays, at least, the pass-through's receive and send plus
this write. Same broker settings and the same table helper as the real worker
(``streams.state.table``); run with ``python -m bench.stateful_app``.
"""

from __future__ import annotations

import faust

from bench import passthrough_app
from contract.settings import Settings

APP_ID = "bench-stateful"
TARGET = "bench.forwarded-stateful"


def create_app(settings: Settings) -> faust.App:
    """``SOURCE`` -> ``TARGET``, bytes unchanged, each event's text kept under its key."""
    return passthrough_app.create_app(settings, APP_ID, TARGET, keep=True)


def main() -> None:
    passthrough_app.run_worker(create_app(Settings()))


if __name__ == "__main__":
    main()
