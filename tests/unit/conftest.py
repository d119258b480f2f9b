"""Fixtures the unit tests share: the built-in demo registry and dataset catalog."""

from __future__ import annotations

import pytest

from contract.datasets import Catalog
from contract.registry import Registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()
