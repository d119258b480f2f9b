"""A ``[kafka]`` test runs on Apache Kafka, not just under its name.

``tests/conftest.py`` parametrizes every integration test by broker; a test whose own
fixtures never asked for ``broker_kind`` used to get the id without the fixture, so its
stack started Tansu (pytest prunes the unused fixture). Nothing is started here.
"""

from __future__ import annotations

import os

import pytest

from baocao.broker import KIND_VARIABLE, configured_kind

pytestmark = pytest.mark.integration


def test_the_id_names_the_broker_the_stack_starts(request: pytest.FixtureRequest) -> None:
    wanted = request.node.callspec.params["broker_kind"]
    assert os.environ.get(KIND_VARIABLE) == wanted
    assert configured_kind() == wanted
