"""Errors of the producer stage."""

from __future__ import annotations

from contract.errors import BaocaoError


class PublishError(BaocaoError):
    """The broker did not confirm a report (nothing is counted until it does)."""
