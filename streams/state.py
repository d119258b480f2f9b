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
from typing import IO, Any

import faust

from contract.settings import Settings

MiB = 1024 * 1024

#: Per table partition (one RocksDB each): memtables 2 × 1 MiB, block cache 2 MiB,
#: sized to what is read often (today's and yesterday's unit-days: 10,000 communes ×
#: 2 days × 0.5 KB ≈ 10 MB over all partitions), not to the history. Faust's defaults
#: (3 × 64 MiB and a 2 GiB cache, each) would let memory grow with the data, which is
#: what this store is for avoiding. Measured in-process over 1 M entries in 4
#: partitions: +17 MiB at most; a write ≈ 12 µs, a read ≈ 8 µs (8 MiB caches: +45 MiB,
#: 9 and 5 µs), against ≈ 1 ms of Faust per event.
ROCKSDB_OPTIONS: dict[str, Any] = {
    "driver": "rocksdict",  # wheels on PyPI; python-rocksdb needs a C++ build
    "write_buffer_size": 1 * MiB,
    "max_write_buffer_number": 2,
    "block_cache_size": 2 * MiB,
}

LOCK_FILE = ".baocao-worker.lock"

#: Lock files this process holds; kept open until it ends, however it ends.
_held: list[IO[str]] = []


class StateDirInUse(RuntimeError):
    """Another worker process holds the state directory."""


def app_settings(settings: Settings) -> dict[str, Any]:
    """Faust's ``store`` and ``datadir`` for the configured worker store."""
    if settings.worker_store == "memory":
        return {"store": "memory://"}  # rebuilt from the changelog topics on start
    return {"store": "rocksdb://", "datadir": str(settings.worker_state_dir)}


def table(app: faust.App, name: str, settings: Settings) -> Any:
    """A string-keyed table of JSON values, stored as the settings say."""
    options = dict(ROCKSDB_OPTIONS) if settings.worker_store == "rocksdb" else None
    return app.Table(
        name, default=None, partitions=settings.partitions, key_type=str, options=options
    )


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
