"""`python -m bench --broker tansu,kafka`: each benchmark on both brokers, side by side."""

from __future__ import annotations

import argparse

import pytest

from bench.__main__ import brokers
from bench.common import side_by_side


def test_the_broker_option_takes_one_or_both_and_refuses_others() -> None:
    assert brokers("tansu, kafka") == ["tansu", "kafka"]
    assert brokers("kafka") == ["kafka"]
    with pytest.raises(argparse.ArgumentTypeError, match="tansu, kafka"):
        brokers("redpanda")


def test_the_results_stand_in_one_column_per_broker() -> None:
    text = side_by_side(
        {
            "tansu": [("latency p95", "1.86 s"), ("burst", "4.4 s")],
            "kafka": [("latency p95", "0.41 s"), ("burst", "2.1 s")],
        }
    )
    assert text.splitlines() == [
        "| stage | tansu | kafka |",
        "|---|---|---|",
        "| latency p95 | 1.86 s | 0.41 s |",
        "| burst | 4.4 s | 2.1 s |",
    ]
