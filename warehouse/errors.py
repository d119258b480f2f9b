"""Errors of the warehouse; every one derives from baocao's root exception."""

from __future__ import annotations

from contract.errors import BaocaoError


class WarehouseError(BaocaoError):
    """The warehouse could not do what was asked (a bad query, data it cannot take)."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse refused or could not be reached; try again after ``retry_after``.

    A backpressure signal, not a crash: the sink pauses its partitions, keeps its
    batches (so a retry re-uses the same deduplication tokens) and tries again; a
    command answers that no service and no warehouse answered.
    """

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RowError(WarehouseError):
    """An event or a unit cannot be stored (a value outside its column's range)."""
