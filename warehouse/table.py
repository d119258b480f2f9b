"""A warehouse table: its columns and keys, and its DDL on one server or on a cluster.

Every table is a ReplacingMergeTree keyed by the identity of what it stores (see
``warehouse.schema``); on a cluster the same definition becomes a replicated
``<table>_local`` on every node plus a Distributed table under the original name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

#: One row to insert, in its table's column order.
Row = tuple[Any, ...]
#: What ClickHouse's Date and DateTime64 can store.
DATE_MIN, DATE_MAX = date(1970, 1, 1), date(2149, 6, 6)

UTC_MS = "DateTime64(3, 'UTC')"
TIMELINESS = "Enum8('on_time' = 1, 'late' = 2)"
LC = "LowCardinality(String)"
#: How many recent insert blocks a MergeTree remembers for deduplication (tokens or hashes).
DEDUP_WINDOW = 10_000
#: Keeper path and replica name of a replicated table; each server fills in its own macros.
REPLICA = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"


@dataclass(frozen=True)
class Table:
    """A table: its columns (name, ClickHouse type), engine, sorting and sharding keys."""

    name: str
    columns: tuple[tuple[str, str], ...]
    order_by: str
    engine: str = "ReplacingMergeTree"
    # On a cluster, rows with the same key land on the same shard, so ReplacingMergeTree
    # collapses redelivered copies there and a retried batch splits the same way.
    shard_by: str = "cityHash64(unit_id)"
    partition_by: str = ""
    # Rows per index mark; None: ClickHouse's 8192. A rollup read a province at a time
    # wants fewer: its ~5k rows of a month straddle granules of the whole nation's rows.
    index_granularity: int | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def column_types(self) -> tuple[str, ...]:
        return tuple(kind for _, kind in self.columns)

    def _create(self, database: str, name: str, on_cluster: str, engine: str, window: str) -> str:
        cols = ",\n    ".join(f"`{col}` {kind}" for col, kind in self.columns)
        partition = f"PARTITION BY {self.partition_by}\n" if self.partition_by else ""
        granularity = (
            f", index_granularity = {self.index_granularity}" if self.index_granularity else ""
        )
        return (
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{name}`{on_cluster} (\n    {cols}\n)\n"
            f"ENGINE = {engine}\n{partition}ORDER BY ({self.order_by})\n"
            f"SETTINGS {window} = {DEDUP_WINDOW}{granularity}"
        )

    def ddl(self, database: str) -> str:
        """The CREATE statement on one server."""
        return self._create(
            database, self.name, "", self.engine, "non_replicated_deduplication_window"
        )

    def cluster_ddl(self, database: str, cluster: str) -> tuple[str, str]:
        """A replicated ``<name>_local`` table on every node and a Distributed ``<name>``."""
        local, on = f"{self.name}_local", f" ON CLUSTER `{cluster}`"
        kind, _, args = self.engine.partition("(")  # e.g. "ReplacingMergeTree(version)"
        engine = f"Replicated{kind}({REPLICA}{', ' + args.rstrip(')') if args else ''})"
        distributed = (
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{self.name}`{on}\n"
            f"AS `{database}`.`{local}`\n"
            f"ENGINE = Distributed('{cluster}', '{database}', '{local}', {self.shard_by})"
        )
        replicated = self._create(database, local, on, engine, "replicated_deduplication_window")
        return replicated, distributed


def clamp_date(day: date) -> date:
    """``day`` moved into what a Date column can hold."""
    return min(max(day, DATE_MIN), DATE_MAX)
