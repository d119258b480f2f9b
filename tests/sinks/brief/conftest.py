"""A chDB warehouse holding the Thái Nguyên replay, and the briefs made from it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from contract.datasets import Catalog
from contract.population import load_population
from contract.registry import Registry
from contract.settings import Settings
from sinks.brief.gather import gather
from sinks.brief.model import Brief
from tests.sinks.brief import replay
from warehouse.client import Warehouse

#: When the brief is made: 15:05 on the day plus three hours, so that the day's late
#: report (18:06) is not yet in and a correction after the deadline may be.
GENERATED_AT = datetime(2021, 7, 27, 19, 0, tzinfo=replay.TZ)


@pytest.fixture(scope="package")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="package")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="package")
def replayed(registry: Registry, catalog: Catalog) -> replay.Replayed:
    return replay.replay(registry, catalog)


@pytest.fixture(scope="package")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chDB directory for the package: a process opens one, in as many databases."""
    return tmp_path_factory.mktemp("brief-warehouse")


@pytest.fixture(scope="package")
def warehouse(
    chdb_path: Path, registry: Registry, replayed: replay.Replayed
) -> Iterator[Warehouse]:
    settings = Settings(warehouse="chdb", chdb_path=chdb_path, database="brief")
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        wh.load_units(registry)
        replay.write(wh, replayed)
        yield wh


@pytest.fixture(scope="package")
def brief(warehouse: Warehouse, registry: Registry, catalog: Catalog) -> Brief:
    """Thái Nguyên's brief of 27/7/2021, with the demo population's age bands."""
    return gather(
        warehouse, registry, catalog, replay.THAI_NGUYEN, replay.DAY, replay.TZ, GENERATED_AT,
        population=load_population(registry),
    )  # fmt: skip


@pytest.fixture(scope="package")
def national(warehouse: Warehouse, registry: Registry, catalog: Catalog) -> Brief:
    """The national roll-up of the same day (only Thái Nguyên has reports)."""
    return gather(warehouse, registry, catalog, None, replay.DAY, replay.TZ, GENERATED_AT)


@pytest.fixture(scope="package")
def corrected(
    chdb_path: Path, warehouse: Warehouse, registry: Registry, replayed: replay.Replayed
) -> Iterator[Warehouse]:
    """The same replay in a second database, plus Phú Bình's correction at 16:30: 7 cases."""
    settings = Settings(warehouse="chdb", chdb_path=chdb_path, database="brief_corrected")
    first = next(
        r for r in replayed.accepted
        if r.unit_id == replay.PHU_BINH and r.report_date == replay.DAY
    )  # fmt: skip
    at = datetime(2021, 7, 27, 16, 30, tzinfo=replay.TZ)
    values = {**first.values, "cases_new": 7, "cases_community": 7}
    correction = first.model_copy(update={
        "report_id": uuid.uuid5(uuid.NAMESPACE_URL, "brief/phu-binh/correction"),
        "revision": first.revision + 1, "values": values, "submitted_at": at,
        "accepted_at": at, "reason": "Bổ sung 1 ca sau rà soát",
    })  # fmt: skip
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        wh.load_units(registry)
        accepted = [*replayed.accepted, correction]
        replay.write(wh, replay.Replayed(accepted, replayed.rejected, replayed.alerts,
                                         replayed.levels))  # fmt: skip
        yield wh
