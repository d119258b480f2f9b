"""Errors of the sink stage itself; the warehouse's are in ``warehouse.errors``."""

from __future__ import annotations

from contract.errors import BaocaoError


class SinkError(BaocaoError):
    """A sink could not do its work (a brief's font missing)."""
