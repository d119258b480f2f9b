"""Skipped offsets in a partition are noticed; replays and other partitions are not;
commits never pass what the stream read in order (streams/compat/offset_order.py)."""

from __future__ import annotations

import faust
from faust.types import TP

from streams.compat.offset_order import NOTHING, OffsetOrder, limit_commits


def test_in_order_offsets_and_the_first_after_an_assignment_pass() -> None:
    order = OffsetOrder()
    assert [order.skipped(0, o) for o in (41, 42, 43)] == [None, None, None]
    assert order.skipped(1, 7) is None  # each partition on its own


def test_a_skip_forward_names_the_missing_offsets() -> None:
    order = OffsetOrder()
    order.skipped(0, 66)
    assert order.skipped(0, 83) == range(67, 83)
    assert order.skipped(0, 84) is None


def test_reading_again_from_an_earlier_offset_is_a_replay_not_a_skip() -> None:
    order = OffsetOrder()
    for o in (10, 11, 12):
        order.skipped(0, o)
    assert order.skipped(0, 11) is None
    assert order.skipped(0, 12) is None


def test_a_new_assignment_forgets_where_partitions_were() -> None:
    order = OffsetOrder()
    order.skipped(0, 5)
    order.reset()
    assert order.skipped(0, 50) is None


def test_commits_may_name_only_what_was_read_in_order() -> None:
    order = OffsetOrder()
    assert order.commit_limit(0) == NOTHING  # nothing read since the assignment
    for o in (10, 11, 12):
        order.skipped(0, o)
    assert order.commit_limit(0) == 13
    order.skipped(0, 40)  # 13..39 skipped
    order.skipped(0, 41)
    assert order.commit_limit(0) == 13  # held at the first skipped offset ...
    order.reset()
    assert order.commit_limit(0) == NOTHING  # ... until the next assignment


def dropped_then_read(app_id: str, limited: bool) -> dict[TP, int]:
    """What a Faust consumer would commit after the worker log's case: the stream read
    100..111, Faust acked 112..142 without handing them over (dropped in a rebalance),
    then the stream read and acked 143."""
    app = faust.App(app_id, broker="kafka://127.0.0.1:1", store="memory://")
    order = OffsetOrder()
    tp = TP("t-reports", 2)
    if limited:
        limit_commits(app, tp.topic, order)
    consumer = app.consumer
    consumer._committed_offset[tp] = 100
    for offset in range(100, 144):
        if not 112 <= offset <= 142:
            order.skipped(tp.partition, offset)
        consumer._acked[tp].append(offset)
        consumer._acked_index[tp].add(offset)
    return consumer._filter_committable_offsets({tp})


def test_faust_alone_commits_past_offsets_the_stream_never_read() -> None:
    """The upstream behaviour: a restart resumes at 144 and 112..142 are never decided."""
    assert dropped_then_read("t-order-faust", limited=False) == {TP("t-reports", 2): 144}


def test_with_the_limit_the_commit_stops_at_the_first_skipped_offset() -> None:
    assert dropped_then_read("t-order-limited", limited=True) == {TP("t-reports", 2): 112}
