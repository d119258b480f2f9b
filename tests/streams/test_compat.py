"""Workarounds apply once per app, each can be switched off, and library versions are checked."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from pathlib import Path

import faust
import pytest
from aiokafka.client import AIOKafkaClient  # type: ignore[import-untyped]
from faust.tables.recovery import Recovery
from faust.transport.drivers import aiokafka as faust_aiokafka
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from streams import compat
from streams.app import create_app
from streams.compat import (
    producer_topics,
    recovery_offsets,
    recovery_rebalance,
    seek_committed,
    versions,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def patches_back_on() -> Iterator[None]:
    """Leave the process patched, as every other test's apps expect."""
    yield
    producer_topics.install()
    seek_committed.install()
    recovery_rebalance.install()


def patched() -> dict[str, bool]:
    return {
        "producer_topics": AIOKafkaClient._wait_on_metadata
        is producer_topics._tracking_wait_on_metadata,
        "seek_committed": faust_aiokafka.AIOKafkaConsumerThread.seek_to_committed
        is seek_committed._seek_to_committed,
        "recovery_rebalance": Recovery._seek_offsets is recovery_rebalance._seek_unless_rebalanced,
    }


ALL_ON = {"producer_topics": True, "seek_committed": True, "recovery_rebalance": True}
ALL_OFF = dict.fromkeys(ALL_ON, False)


def app(off: str = "", app_id: str = "t-compat") -> faust.App:
    settings = Settings(_env_file=None, compat_off=off)  # type: ignore[call-arg]
    return create_app(settings, Registry.load(), Catalog.load(), app_id=app_id)


def test_an_app_runs_with_every_workaround_unless_told_otherwise() -> None:
    made = app()
    assert patched() == ALL_ON
    assert hasattr(made, recovery_offsets._FACTORY)  # its recovery reads the true ends


def test_switched_off_patches_give_the_libraries_their_own_methods_back() -> None:
    app()
    made = app(
        "seek_committed, producer_topics,recovery_offsets,recovery_rebalance",
        app_id="t-compat-off",
    )
    assert patched() == ALL_OFF
    assert not hasattr(made, recovery_offsets._FACTORY)
    app(app_id="t-compat-on-again")
    assert patched() == ALL_ON


def test_the_offset_check_switched_off_reports_no_gap() -> None:
    made = app(app_id="t-compat-order")
    on = compat.Installed(frozenset()).offset_order(made, "t-reports")
    off = compat.Installed(frozenset({"offset_order"})).offset_order(made, "t-reports")
    for order in (on, off):
        order.skipped(0, 10)
    assert on.skipped(0, 20) == range(11, 20)
    assert off.skipped(0, 20) is None


def test_an_unknown_name_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(ValueError, match="seek_committed"):
        Settings(_env_file=None, compat_off="seek_comitted")  # type: ignore[call-arg]


def test_every_switch_name_has_its_libraries() -> None:
    assert set(compat.WORKAROUNDS) == {
        "log_repeats",
        "producer_topics",
        "seek_committed",
        "recovery_offsets",
        "recovery_rebalance",
        "offset_order",
        "liveness",
        "stop_deadline",
    }
    installed = {lib.dist: lib.installed() for libs in compat.WORKAROUNDS.values() for lib in libs}
    for lib in (versions.FAUST, versions.AIOKAFKA):
        found = installed[lib.dist]
        assert found is not None and lib.holds(found), f"{lib} does not hold {found}"


def test_a_library_outside_what_a_patch_was_written_for_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = versions.WrittenFor("aiokafka", "0.1", "0.2")
    with caplog.at_level(logging.WARNING, logger=versions.__name__):
        versions.check("producer_topics", (old,), producer_topics.HOOKS)
    (record,) = caplog.records
    assert "aiokafka >=0.1,<0.2" in record.getMessage()
    assert "docs/known-issues.md" in record.getMessage()


def test_a_patch_whose_method_is_gone_refuses_to_start() -> None:
    with pytest.raises(versions.CompatError, match="BAOCAO_COMPAT_OFF=seek_committed"):
        versions.check("seek_committed", (versions.FAUST,), {"faust.X.seek": None})


@pytest.mark.parametrize(
    ("text", "key"), [("0.15.3", (0, 15, 3)), ("0.16", (0, 16)), ("1.0rc1", (1, 0))]
)
def test_versions_compare_by_their_release_numbers(text: str, key: tuple[int, ...]) -> None:
    assert versions._key(text) == key
    assert versions.FAUST.holds("0.15.3") and not versions.FAUST.holds("0.16.0")


def test_pyproject_caps_faust_and_aiokafka_where_the_patches_stop_being_checked() -> None:
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    caps = {req.name: req.specifier for req in map(Requirement, wanted)}
    for lib in (versions.FAUST, versions.AIOKAFKA):
        assert caps[lib.dist] == SpecifierSet(f">={lib.lowest},<{lib.below}"), lib
