"""Shared fixtures: a real broker once per session, unique topic names per test.

Every test marked ``integration`` runs on both brokers, Tansu and Apache Kafka (ids end
in ``[tansu]`` / ``[kafka]``): ``broker_kind`` sets ``BAOCAO_EMBEDDED_BROKER`` for its
tests, and every ``EmbeddedBroker`` they start (directly or through a stack) follows it.
Without Java or Maven the Kafka half is skipped with the reason, and under CI=true it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao import kafka_broker
from baocao.broker import KIND_VARIABLE, BrokerKind, EmbeddedBroker
from contract.datasets import Catalog
from contract.registry import Registry

# The API test app (`api` fixture) is used by producers/http, baocao and sinks tests.
pytest_plugins = ["tests.support.api_app"]

BROKERS: tuple[BrokerKind, ...] = ("tansu", "kafka")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each broker-backed (integration) test once per broker."""
    if metafunc.definition.get_closest_marker("integration") is None:
        return
    if "broker_kind" not in metafunc.fixturenames:
        metafunc.fixturenames.append("broker_kind")
    metafunc.parametrize("broker_kind", BROKERS, indirect=True, scope="session")


@pytest.fixture(autouse=True)
def _broker_kind_first(request: pytest.FixtureRequest) -> None:
    """Set up ``broker_kind`` before any other fixture of an integration test.

    Appending it to ``metafunc.fixturenames`` gives the test its ``[kafka]`` id but not
    the fixture: pytest prunes a parametrized test's fixture closure to what its own
    fixtures request (``FuncFixtureInfo.prune_dependency_tree``), so a test whose stack
    does not ask for ``broker`` ran its ``[kafka]`` case on Tansu. An autouse fixture
    runs before the test's own fixtures (its stack), and this one asks for it by name.
    """
    if request.node.get_closest_marker("integration") is not None:
        request.getfixturevalue("broker_kind")


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The built-in demo registry."""
    return Registry.load()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The built-in dataset catalog."""
    return Catalog.load()


@pytest.fixture(scope="session")
def broker_kind(request: pytest.FixtureRequest) -> Iterator[BrokerKind]:
    """The broker this test's processes talk to, set for everything it starts."""
    kind: BrokerKind = getattr(request, "param", "tansu")
    if kind == "kafka":
        try:
            kafka_broker.require()
        except kafka_broker.KafkaUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true: Apache Kafka cannot run here: {exc}")
            pytest.skip(f"Apache Kafka cannot run here: {exc}")
    before = os.environ.get(KIND_VARIABLE)
    os.environ[KIND_VARIABLE] = kind
    yield kind
    if before is None:
        os.environ.pop(KIND_VARIABLE, None)
    else:
        os.environ[KIND_VARIABLE] = before


@pytest.fixture(scope="session")
def broker(broker_kind: BrokerKind) -> Iterator[EmbeddedBroker]:
    """A real broker of the test's kind on a free port; never skipped (CI must exercise it)."""
    with EmbeddedBroker(kind=broker_kind) as running:
        yield running


#: Debian's Chromium: downloading a browser (`playwright install`) is not possible here.
CHROMIUM = Path("/usr/bin/chromium")
#: Without the networking flags Chromium keeps dialling out of this closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium for the viewer and form tests; a failure, never a skip, in CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic names, consumer groups and databases."""
    return uuid.uuid4().hex[:10]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skipped test would hide a missing install step: fail the run instead."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        print(f"\nCI=true: {skipped} test(s) skipped; every test must run in CI.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
