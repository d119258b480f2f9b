"""Errors of the sink stage; every one derives from baocao's root exception."""

from __future__ import annotations

from contract.errors import BaocaoError


class SinkError(BaocaoError):
    """The sink could not do its work (a bad query, rows the warehouse cannot take)."""


class WarehouseUnavailable(SinkError):
    """The warehouse refused or could not be reached; try again after ``retry_after``.

    A backpressure signal, not a crash: the consumer pauses its partitions, keeps its
    batches (so a retry re-uses the same deduplication tokens) and tries again.
    """

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RowError(SinkError):
    """An event decoded but cannot be stored (a value outside the column's range)."""
