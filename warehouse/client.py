"""The warehouse door: one clickhouse-connect client behind one lock, for chDB and server alike.

chDB runs the ClickHouse engine inside this process and only one process may open its
data directory, so the process that runs the sink owns the warehouse and every reader
in it (the sink thread, an HTTP thread) goes through one ``Warehouse``, which
serializes calls. Against a ClickHouse server the same class and SQL are used; only
``Settings.warehouse_client_kwargs()`` differ.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import clickhouse_connect
from clickhouse_connect.driver.exceptions import Error as DriverError
from clickhouse_connect.driver.exceptions import OperationalError

from contract.errors import ConfigError
from contract.registry import Registry
from contract.settings import Settings
from warehouse import schema
from warehouse.errors import WarehouseError, WarehouseUnavailable
from warehouse.table import Row
from warehouse.units import UNITS_COLUMNS, unit_row

log = logging.getLogger(__name__)
T = TypeVar("T")
Parameters = Mapping[str, Any] | None


class Warehouse:
    """Run commands, queries and inserts on the warehouse, one at a time."""

    def __init__(
        self, client: Any, database: str, retry_after: float = 1.0, cluster: str = ""
    ) -> None:
        self.database = database
        self.retry_after = retry_after
        self.cluster = cluster  # '' = one server; else the ClickHouse cluster's name
        self._client = client
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def connect(cls, settings: Settings) -> Warehouse:
        """Open the warehouse the settings name; its database may not exist yet."""
        if settings.clickhouse_cluster and settings.warehouse == "chdb":
            raise ConfigError(
                "BAOCAO_CLICKHOUSE_CLUSTER needs a ClickHouse server (BAOCAO_WAREHOUSE=http) / "
                "chế độ cụm cần máy chủ ClickHouse (BAOCAO_WAREHOUSE=http)"
            )
        kwargs = settings.warehouse_client_kwargs()
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        try:
            client = clickhouse_connect.get_client(**kwargs)
        except Exception as exc:  # the driver raises its own errors, chdb raises RuntimeError
            raise WarehouseUnavailable(
                f"cannot open the warehouse at {where} (is another baocao process using it?):"
                f" {exc} / Không mở được kho dữ liệu tại {where}"
                " (có tiến trình baocao khác đang dùng?)"
            ) from exc
        return cls(client, settings.database, cluster=settings.clickhouse_cluster)

    def _run(self, what: str, call: Callable[[], T], *, writing: bool = False) -> T:
        with self._lock:
            if self._closed:
                raise WarehouseError(f"{what}: the warehouse connection is closed")
            try:
                return call()
            except (OperationalError, OSError) as exc:
                raise WarehouseUnavailable(f"{what}: {exc}", self.retry_after) from exc
            except DriverError as exc:
                # A refused write is retried (stalling loudly beats dropping data); a
                # refused query or DDL is the caller's mistake.
                if writing:
                    raise WarehouseUnavailable(f"{what}: {exc}", self.retry_after) from exc
                raise WarehouseError(f"{what}: {exc}") from exc
            except (TypeError, ValueError, OverflowError) as exc:
                raise WarehouseError(
                    f"{what}: the driver could not encode the data: {exc}"
                ) from exc

    def command(self, sql: str, parameters: Parameters = None) -> Any:
        """Run a statement (DDL, DELETE, a one-value SELECT) and return its result."""
        return self._run("command", lambda: self._client.command(sql, parameters=parameters))

    def query_rows(self, sql: str, parameters: Parameters = None) -> list[tuple[Any, ...]]:
        """Run a SELECT; parameters bind server-side as ``{name:Type}``."""
        result = self._run("query", lambda: self._client.query(sql, parameters=parameters))
        return [tuple(row) for row in result.result_rows]

    def query_dicts(self, sql: str, parameters: Parameters = None) -> list[dict[str, Any]]:
        """Run a SELECT and return each row as a dict keyed by column name."""
        result = self._run("query", lambda: self._client.query(sql, parameters=parameters))
        names = list(result.column_names)
        return [dict(zip(names, row, strict=True)) for row in result.result_rows]

    def query_columns(
        self, sql: str, parameters: Parameters = None
    ) -> tuple[list[str], list[Sequence[Any]]]:
        """Run a SELECT; return its column names and its values column by column.

        For large results: no per-row tuple or dict is built (a year's compliance grid,
        63k rows, spent 0.5 s in Python building and converting rows one cell at a time).
        """
        result = self._run("query", lambda: self._client.query(sql, parameters=parameters))
        return list(result.column_names), list(result.result_columns)

    def check(self) -> None:
        """Raise ``WarehouseUnavailable`` unless the warehouse answers a trivial query."""
        self._run("check", lambda: self._client.command("SELECT 1"), writing=True)

    def insert(
        self,
        table: str,
        rows: Sequence[Row] | Sequence[list[Any]],
        column_names: Sequence[str],
        dedup_token: str | None = None,
        *,
        column_oriented: bool = False,
    ) -> int:
        """Insert rows into a table of ``self.database`` as one block; return how many.

        ``rows`` are tuples, or with ``column_oriented`` one list per column (nothing to
        transpose). With ``dedup_token`` a block re-sent with the same token is dropped
        by the warehouse (``non_replicated_deduplication_window``), so a retried batch
        never counts twice. Every failure is reported as ``WarehouseUnavailable``.
        """
        count = (len(rows[0]) if rows else 0) if column_oriented else len(rows)
        if not count:
            return 0
        known = schema.TABLES.get(table)
        types = dict(known.columns) if known else {}
        type_names = [types[c] for c in column_names] if set(column_names) <= types.keys() else None
        settings: dict[str, Any] = {}
        if dedup_token:
            # A retry after a materialized view failed must still reach the view's
            # table (daily_values): the view checks the token itself, whatever the
            # server's default, rather than being skipped with the source's duplicate.
            settings["insert_deduplication_token"] = dedup_token
            settings["deduplicate_blocks_in_dependent_materialized_views"] = 1
        if self.cluster:
            # Confirm only once every shard has its rows: the sink commits offsets after this.
            settings["distributed_foreground_insert"] = 1
        self._run(
            f"insert into {table}",
            lambda: self._client.insert(
                table,
                rows,
                column_names=list(column_names),
                database=self.database,
                column_type_names=type_names,
                column_oriented=column_oriented,
                settings=settings or None,
            ),
            writing=True,
        )
        return count

    def ensure_schema(self) -> None:
        """Create the database, tables and views if missing; views are always replaced.

        An existing table keeps the layout it was created with (CREATE ... IF NOT EXISTS):
        its answers stay exact, only slower, so a drift is logged with the way to rebuild.
        """
        for statement in schema.statements(self.database, self.cluster):
            self.command(statement)
        with self._lock:
            self._client.database = self.database  # unqualified names now resolve here
        for name, found, wanted in self.layout_drift():
            log.warning(
                "table %s.%s has the layout %s, this version defines %s: answers are exact"
                " but dashboards read more than they need; rebuild it as docs/operations.md"
                " 'Upgrading the warehouse layout' shows / bảng %s.%s có cấu trúc %s, phiên bản này"
                " định nghĩa %s: số liệu vẫn đúng nhưng bảng điều khiển chậm hơn;"
                " xây lại bảng theo docs/operations.md 'Upgrading the warehouse layout'",
                *(self.database, name, found, wanted) * 2,
            )

    def layout_drift(self) -> list[tuple[str, str, str]]:
        """Return (table, its layout, the defined layout) for tables made by older versions.

        The layout is the partition key and the sorting key, as ClickHouse prints them,
        and the index granularity of a table that sets one.
        """
        suffix = "_local" if self.cluster else ""  # the MergeTree tables behind a cluster
        rows = self.query_rows(
            "SELECT name, partition_key, sorting_key, engine_full FROM system.tables"
            " WHERE database = {db:String}",
            {"db": self.database},
        )
        found = {name: (part, keys, engine) for name, part, keys, engine in rows}
        out = []
        for table in schema.TABLES.values():
            if table.name + suffix not in found:
                continue
            part, keys, engine = found[table.name + suffix]
            granularity = _granularity(engine) if table.index_granularity else None
            have = _layout(part, keys, granularity)
            want = _layout(table.partition_by, table.order_by, table.index_granularity)
            if have != want:
                out.append((table.name + suffix, have, want))
        return out

    def load_units(self, registry: Registry) -> int:
        """Make ``registry`` the warehouse's registry; return how many units were written.

        Replace semantics without a window where the table is empty or mixed: each load
        is one insert tagged with a new, higher ``version``; ``units_current`` reads only
        the highest version, so the switch is atomic. Older versions are then deleted to
        keep the table small; if that cleanup fails, readers are still exact.
        """
        newest = self.query_rows(f"SELECT max(version) FROM `{self.database}`.units")
        version = max(time.time_ns(), int(newest[0][0] or 0) + 1)
        rows = [unit_row(unit, version) for unit in registry]
        self.insert("units", rows, UNITS_COLUMNS, dedup_token=f"units/{version}")
        target = f"`{self.database}`.units"
        if self.cluster:  # rows are deleted where they live, not through the Distributed table
            target = f"`{self.database}`.units_local ON CLUSTER `{self.cluster}`"
        try:
            self.command(f"DELETE FROM {target} WHERE version < {{v:UInt64}}", {"v": version})
        except WarehouseError as exc:
            log.warning("old unit versions stay until the next load: %s", exc)
        return len(rows)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._client.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _layout(partition_by: str, order_by: str, granularity: int | None = None) -> str:
    """``PARTITION BY p ORDER BY (k)`` with ClickHouse's spacing and parentheses removed,
    then `` index_granularity = n`` when ``granularity`` is given."""
    squeeze = "".join(f"{partition_by}|{order_by}".split())
    part, keys = squeeze.split("|")
    if keys.startswith("(") and keys.endswith(")"):
        keys = keys[1:-1]
    marks = f" index_granularity = {granularity}" if granularity else ""
    return f"PARTITION BY {part or '-'} ORDER BY ({keys}){marks}"


def _granularity(engine_full: str) -> int:
    """The index granularity in a table's ``engine_full``; ClickHouse's 8192 if unset."""
    found = re.search(r"\bindex_granularity = (\d+)", engine_full)
    return int(found.group(1)) if found else 8192
