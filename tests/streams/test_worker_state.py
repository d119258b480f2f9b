"""Where a worker keeps its tables, and one worker per state directory.

That the tables really land in RocksDB and survive a ``kill -9`` is shown end to end by
``tests/integration/test_pipeline.py`` (its ``rocksdb`` case reads the ledger back).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from baocao.cli import main
from contract.settings import Settings
from streams import state
from streams.app import create_app, faust_settings


def rocksdb(tmp_path: Path) -> Settings:
    return Settings(worker_store="rocksdb", worker_state_dir=tmp_path / "state")


def test_the_memory_store_needs_no_directory(tmp_path: Path) -> None:
    settings = Settings(worker_state_dir=tmp_path / "state")
    assert faust_settings(settings)["store"] == "memory://"
    state.claim(settings)
    assert not (tmp_path / "state").exists()


def test_the_rocksdb_store_keeps_its_tables_in_the_state_directory(tmp_path: Path) -> None:
    settings = rocksdb(tmp_path)
    conf = faust_settings(settings)
    assert (conf["store"], conf["datadir"]) == ("rocksdb://", str(tmp_path / "state"))


def test_every_table_gets_bounded_rocksdb_caches(tmp_path: Path) -> None:
    from contract.datasets import Catalog
    from contract.registry import Registry

    app = create_app(rocksdb(tmp_path), Registry.load(), Catalog.load(), app_id="t-state")
    names = {"ledger", "alerts_sent", "deadline_summaries", "dead_letter_alerts"}
    assert names <= set(app.tables)
    for name in names:
        options = app.tables[name].options or {}
        assert options.get("driver") == "rocksdict", name
        assert options["block_cache_size"] <= 64 * state.MiB, name


def test_a_second_claim_on_the_directory_is_refused_in_both_languages(tmp_path: Path) -> None:
    settings = rocksdb(tmp_path)
    state.claim(settings)  # flock belongs to the open file: a second open conflicts
    with pytest.raises(state.StateDirInUse) as caught:
        state.claim(settings)
    text = str(caught.value)
    assert str(os.getpid()) in text and str(tmp_path / "state") in text
    assert "give each worker its own BAOCAO_WORKER_STATE_DIR" in text
    assert "mỗi worker cần một BAOCAO_WORKER_STATE_DIR riêng" in text


def test_the_worker_command_refuses_a_directory_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = rocksdb(tmp_path)
    state.claim(settings)  # as if another worker were running
    monkeypatch.setenv("BAOCAO_WORKER_STORE", "rocksdb")
    monkeypatch.setenv("BAOCAO_WORKER_STATE_DIR", str(settings.worker_state_dir))
    monkeypatch.setenv("BAOCAO_BROKER", "127.0.0.1:1")
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 1, result.output
    assert "is in use by process" in result.output
    assert "đang được" in result.output


def test_an_unknown_store_is_refused() -> None:
    with pytest.raises(ValueError, match="worker_store"):
        Settings(worker_store="redis")  # type: ignore[arg-type]


class CountingTable(dict[str, Any]):
    """A table that counts its reads (the store behind the hot keys)."""

    reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)


KEY = "173|district-daily|2021-07-27"


def test_hot_keys_read_the_store_once_and_write_through() -> None:
    store = CountingTable()
    hot = state.HotKeys(store, size=10)
    assert KEY not in hot
    assert KEY not in hot  # a miss is remembered too
    assert store.reads == 1
    hot[KEY] = ["09:00", "on_time"]
    assert store[KEY] == ["09:00", "on_time"]  # written through
    assert KEY in hot and store.reads == 1  # and the remembered miss updated


def test_hot_keys_remember_only_what_is_kept_of_a_value() -> None:
    from streams.watch import reported_of

    store = CountingTable()
    hot = state.HotKeys(store, size=10, keep=reported_of)
    assert hot.look(KEY) is None
    hot[KEY] = ["2021-07-27T09:00:00+07:00", "on_time", 1, "r1", 1, "c" * 32, 0, 7]
    assert hot._looks[KEY] == hot.look(KEY) == reported_of(store[KEY])
    assert hot.look(KEY).timeliness == "on_time" and store.reads == 1
    assert hot.get(KEY) == store[KEY] and store.reads == 2  # get: the whole stored entry


def test_writes_alone_add_nothing_to_the_hot_keys() -> None:
    """A long stream of writes (a national replay) must not churn or fill the cache: the
    first version cached every write's whole entry and a 1 M-report run kept growing."""
    store = CountingTable()
    hot = state.HotKeys(store, size=3)
    assert "looked" not in hot
    for n in range(1_000):
        hot[f"k{n}"] = n
    hot["looked"] = 1
    assert list(hot._looks) == ["looked"] and len(store) == 1_001
    assert "k7" in hot and store.reads == 2


def test_one_off_checks_are_answered_from_the_store_and_not_remembered() -> None:
    """A replay of late reports checks one alert id per report: remembered, those checks
    filled the cache and pushed out the watch's keys."""
    store = CountingTable({"sent": "2021-07-27T15:00:00+07:00"})
    hot = state.HotKeys(store, size=3)
    assert hot.has("sent") and not hot.has("never")
    for n in range(1_000):
        assert not hot.has(f"late:{n}")
    assert not hot._looks and store.reads == 1_002
    hot["late:7"] = "2021-07-28T15:00:00+07:00"
    assert hot.has("late:7")


def test_hot_keys_keep_the_most_recently_looked_at_and_forget_on_clear() -> None:
    store = CountingTable({f"k{n}": n for n in range(5)})
    hot = state.HotKeys(store, size=3, keep=lambda v: v)
    for key in ("k0", "k1", "k2", "k0", "k3"):  # k1 is now the least recently used
        hot.look(key)
    reads = store.reads
    assert [hot.look(k) for k in ("k0", "k2", "k3")] == [0, 2, 3] and store.reads == reads
    assert hot.look("k1") == 1 and store.reads == reads + 1
    store["k0"] = 99  # as a recovery writes: behind the cache
    hot.clear()
    assert hot.look("k0") == 99


def test_the_memory_store_remembers_nothing() -> None:
    store = CountingTable()
    hot = state.HotKeys(store, size=0)
    assert KEY not in hot and KEY not in hot
    assert store.reads == 2 and not hot._looks


def test_a_rebalance_clears_the_hot_keys(tmp_path: Path) -> None:
    from contract.datasets import Catalog
    from contract.registry import Registry

    app = create_app(rocksdb(tmp_path), Registry.load(), Catalog.load(), app_id="t-hot")
    hot = app.ledger  # type: ignore[attr-defined]
    assert isinstance(hot, state.HotKeys)
    hot._looks[KEY] = ["stale"]

    async def rebalance() -> None:
        await app.on_partitions_assigned.send(set())  # as Faust sends it: positionally

    # On a thread of its own: an earlier test can leave this thread's loop running.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, rebalance()).result(timeout=30)
    assert not hot._looks


def test_the_watch_refuses_a_ledger_that_does_not_keep_what_it_looks_at(tmp_path: Path) -> None:
    import faust

    from contract.datasets import Catalog
    from contract.registry import Registry
    from streams import watch

    settings = rocksdb(tmp_path)
    app = faust.App("t-watch-keep", **faust_settings(settings))
    wrong = state.table(app, "ledger", settings)  # keeps only "present", not Reported
    with pytest.raises(ValueError, match="keep=reported_of"):
        watch.install(
            app, settings, Registry.load(), Catalog.load(), None,  # type: ignore[arg-type]
            wrong, None, None, None, None,  # type: ignore[arg-type]
        )  # fmt: skip
    assert create_app(settings, Registry.load(), Catalog.load(), app_id="t-ok").ledger.keep is (
        watch.reported_of
    )


def test_tables_are_written_with_orjson() -> None:
    # Faust picks orjson for its JSON codec when it is installed (faust/utils/json.py);
    # the signal series, the largest table values, are then 8x faster to write.
    import orjson
    from faust.serializers import codecs

    value = {"d": {"2021-07-27": [[1, "2021-07-27T08:00:00+00:00", "id"], {"cases_new": 6}]}}
    assert codecs.get_codec("json").dumps(value) == orjson.dumps(value)
    assert codecs.get_codec("json").loads(orjson.dumps(value)) == value
