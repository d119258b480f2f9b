"""Shared fixtures: a real Tansu broker once per session, unique topic names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """A real embedded broker on a free port; never skipped (CI must exercise it)."""
    with EmbeddedBroker() as running:
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
