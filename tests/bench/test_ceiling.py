"""The ceiling yardstick's input: every report decided beforehand, once, where it goes."""

from __future__ import annotations

from bench import forward_app
from bench.common import reports
from bench.throughput import decide_beforehand
from contract import topics
from contract.events import ReportAccepted, ReportRejected


def test_each_report_is_decided_once_and_waits_on_the_source_of_its_topic() -> None:
    data = reports(300)
    decided = decide_beforehand(data)
    assert set(decided) == set(forward_app.ROUTES)
    assert set(forward_app.ROUTES.values()) == {topics.ACCEPTED, topics.REJECTED}
    accepted = [
        ReportAccepted.model_validate_json(value)
        for _, value in decided[f"bench.decided.{topics.ACCEPTED}"]
    ]
    rejected = [
        ReportRejected.model_validate_json(value)
        for _, value in decided[f"bench.decided.{topics.REJECTED}"]
    ]
    assert accepted and rejected  # the simulator's share of invalid reports
    ids = {str(a.report_id) for a in accepted} | {r.report_id for r in rejected}
    assert ids == {str(r.report_id) for r in data}
    keys = {k for pairs in decided.values() for k, _ in pairs}
    assert keys == {r.unit_id.encode() for r in data}
