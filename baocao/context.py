"""Load the pieces every command needs: settings, registry, datasets, clock."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from contract import logs
from contract.clock import Clock, configured
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings


@dataclass
class Context:
    settings: Settings
    registry: Registry
    catalog: Catalog
    clock: Clock


def load(settings: Settings | None = None, clock: Clock | None = None) -> Context:
    """Read settings from the environment and the registry and datasets they name.

    The clock, unless given: the one in ``BAOCAO_CLOCK_FILE`` when set, so that every
    process of one stack (worker, web app, CLI) lives on the same day and hour.
    """
    settings = settings or Settings()
    return Context(
        settings=settings,
        registry=Registry.load(settings.registry_path),
        catalog=Catalog.load(settings.datasets_path),
        clock=clock or configured(settings.clock_file),
    )


def setup_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """Log at ``level``, as text or (``BAOCAO_LOG_FORMAT=json``) one JSON object per line."""
    handler = logs.make_handler(fmt or logs.wanted_format())
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # kafka-python logs every refused connection at ERROR; our commands say it once, clearly.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
