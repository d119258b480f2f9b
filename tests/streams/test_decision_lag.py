"""The signal agent waits while deciding is behind, and only so long (streams/decision_lag.py)."""

from __future__ import annotations

import asyncio

from streams.decision_lag import DecisionLag


def test_lag_counts_what_was_fetched_or_could_be_and_is_not_decided() -> None:
    ends = {0: 120, 1: 40, 2: None}
    lag = DecisionLag(ends.get, behind=100)
    assert lag.lag() == 0  # nothing decided yet: no partition known
    lag.decided(0, 9)  # next to decide: 10
    lag.decided(1, 39)  # caught up
    lag.decided(2, 5)  # its end unknown (revoked)
    assert lag.lag() == 110
    lag.reset()
    assert lag.lag() == 0


def test_signals_wait_until_deciding_catches_up() -> None:
    ends = {0: 500}
    lag = DecisionLag(ends.get, behind=100)
    lag.decided(0, 0)

    async def run() -> tuple[float, bool]:
        waiting = asyncio.ensure_future(lag.wait_for_decisions(max_wait=5.0))
        await asyncio.sleep(0.1)
        still = not waiting.done()
        lag.decided(0, 449)  # 50 left: within ``behind``
        return await asyncio.wait_for(waiting, 1.0), still

    waited, still_waiting = asyncio.run(run())
    assert still_waiting and 0.1 <= waited < 1.0


def test_signals_are_put_off_never_starved() -> None:
    lag = DecisionLag({0: 10_000}.get, behind=100)
    lag.decided(0, 0)
    waited = asyncio.run(lag.wait_for_decisions(max_wait=0.2))
    assert 0.2 <= waited < 1.0


def test_no_wait_at_a_steady_pace() -> None:
    lag = DecisionLag({0: 30}.get, behind=100)
    lag.decided(0, 0)
    assert asyncio.run(lag.wait_for_decisions()) < 0.05
