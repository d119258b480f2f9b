"""Where a worker keeps its tables: in memory (rebuilt from the changelogs) or in RocksDB.

In memory, the ledger grows by about 0.5 KB per unit-day for the life of the process
(a national year: ≈ 1.8 GB) and every start replays each changelog from its beginning.
RocksDB keeps the tables on disk with bounded caches, and a restart reads only what the
changelogs gained since. The changelog topics stay the record either way: a directory
that is lost is rebuilt from them.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any

import faust

from contract.errors import BaocaoError
from contract.settings import Settings

MiB = 1024 * 1024

#: Per table partition (one RocksDB each): memtables 2 × 0.5 MiB and a 0.25 MiB block
#: cache. What the deadline watch reads on every tick is kept decoded in ``HotKeys``
#: below; the processor reads each unit-day about once, mostly a key not there yet
#: (answered by the bloom filter). Faust's defaults (3 × 64 MiB and a 2 GiB cache,
#: each) would let memory grow with the data, which is what this store is for
#: avoiding. Invariant: the worker's memory stays flat as the data grows, at a read cost
#: far below Faust's per-event cost (``python -m bench --only store``; docs/benchmarks.md).
ROCKSDB_OPTIONS: dict[str, Any] = {
    "driver": "rocksdict",  # wheels on PyPI; python-rocksdb needs a C++ build
    "write_buffer_size": MiB // 2,
    "max_write_buffer_number": 2,
    "block_cache_size": MiB // 4,
}

LOCK_FILE = ".baocao-worker.lock"

#: Lock files this process holds; kept open until it ends, however it ends.
_held: list[IO[str]] = []


class StateDirInUse(BaocaoError):
    """Another worker process holds the state directory."""


def app_settings(settings: Settings) -> dict[str, Any]:
    """Faust's ``store`` and ``datadir`` for the configured worker store."""
    if settings.worker_store == "memory":
        return {"store": "memory://"}  # rebuilt from the changelog topics on start
    return {"store": "rocksdb://", "datadir": str(settings.worker_state_dir)}


#: Keys whose looked-up value a RocksDB table keeps in memory. The deadline watch looks up
#: every expected unit's entry for each live day on every tick (national: ≈ 20,000 keys
#: a second); through Faust's store each read costs a key encoding, a RocksDB get and a
#: JSON decode, which slowed the deadline burst's alerts 2-3× (bench/burst.py). A cyclic
#: scan larger than an LRU misses every time, so this is well above 20,000.
HOT_KEYS = 50_000


def _present(value: Any) -> Any:
    return None if value is None else True


def table(
    app: faust.App, name: str, settings: Settings, keep: Callable[[Any], Any] = _present
) -> HotKeys:
    """A string-keyed table of JSON values, stored as the settings say.

    Read it with ``get`` (the stored value), ``look`` (``keep`` of it) and ``in``;
    write it with ``[key] = value``. On RocksDB, looks are remembered (``HotKeys``).
    """
    on_disk = settings.worker_store == "rocksdb"
    stored = app.Table(
        name,
        default=None,
        partitions=settings.partitions,
        key_type=str,
        # A copy: Faust's store pops keys from it.
        options=dict(ROCKSDB_OPTIONS) if on_disk else None,
    )
    hot = HotKeys(stored, HOT_KEYS if on_disk else 0, keep)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def forget(sender: Any, *_: Any, **__: Any) -> None:
        # Recovery after a rebalance writes to the store directly, not through here.
        hot.clear()

    return hot


class HotKeys:
    """The last ``size`` looks at a table, remembered in front of its store.

    ``look(key)`` is ``keep(stored value)``, remembered for the keys looked at most
    recently, misses included; ``get`` always reads the store. A write updates a
    remembered look and adds none, so a long stream of writes (a backfill, the bench's
    national replay) neither churns nor fills the cache: it holds only what the watch
    looks at, and only the part it needs (the first 1 M run cached whole entries of
    every write and grew 14 % by 30 %). Correct while every write in this process goes
    through here and the cache is cleared when partitions move.
    """

    def __init__(self, table: Any, size: int, keep: Callable[[Any], Any] = _present) -> None:
        self.table = table
        self.size = size
        self.keep = keep
        self._looks: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        return self.table.get(key)

    def look(self, key: str) -> Any:
        try:
            kept = self._looks[key]
        except KeyError:
            kept = self.keep(self.table.get(key))
            if self.size:
                self._looks[key] = kept
                if len(self._looks) > self.size:
                    self._looks.popitem(last=False)
            return kept
        self._looks.move_to_end(key)
        return kept

    def __contains__(self, key: str) -> bool:
        return self.look(key) is not None

    def has(self, key: str) -> bool:
        """Whether the store holds ``key``, read once and not remembered.

        For one-off checks (is this report's ``late`` alert sent?): remembered, they
        would push out what the watch looks at on every tick, and a replay of late
        reports filled the cache with keys never looked at again.
        """
        return self.table.get(key) is not None

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = value
        if key in self._looks:
            self._looks[key] = self.keep(value)

    def delete(self, key: str) -> None:
        """Remove ``key`` from the table (a tombstone in its changelog), if it is there."""
        if self.table.get(key) is not None:
            del self.table[key]
        self._looks.pop(key, None)

    def clear(self) -> None:
        self._looks.clear()


def claim(settings: Settings) -> None:
    """Lock the state directory for the rest of this process (rocksdb store only).

    RocksDB allows one process per database; a second worker on the same directory
    would otherwise wait on Faust's retries and then fail without saying why.
    """
    if settings.worker_store != "rocksdb":
        return
    path = settings.worker_state_dir
    path.mkdir(parents=True, exist_ok=True)
    fh = open(path / LOCK_FILE, "a+")  # noqa: SIM115  # held for the life of the process
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        raise StateDirInUse(
            f"the worker state directory {path} is in use by process {holder}; give each "
            f"worker its own BAOCAO_WORKER_STATE_DIR. Thư mục trạng thái {path} đang được "
            f"tiến trình {holder} dùng; mỗi worker cần một BAOCAO_WORKER_STATE_DIR riêng."
        ) from exc
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    _held.append(fh)
