"""Skipped offsets in a partition are noticed; replays and other partitions are not."""

from __future__ import annotations

from streams.compat.offset_order import OffsetOrder


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
