"""The stream's decisions: timeliness, revisions, duplicates, replays, rejections."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ReportAccepted, ReportRejected, ReportSubmitted, SourceRef
from contract.registry import Registry
from streams.ledger import LedgerEntry, first_submission
from streams.processor import Output, Stored, SubmissionProcessor

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = datetime(2021, 7, 27, tzinfo=TZ).date()
VALID = {"cases_new": 3, "cases_community": 1, "tests_pcr": 400, "tests_pcr_positive": 3}


class Harness:
    """A processor with a dict as its ledger table and a running offset counter."""

    def __init__(self) -> None:
        self.ledger: dict[str, Stored] = {}
        self.clock = ManualClock(datetime(2021, 7, 27, 9, tzinfo=UTC))
        self.proc = SubmissionProcessor(Registry.load(), Catalog.load(), TZ, self.clock, 65536)
        self.offset = 0

    def feed(
        self, raw: bytes, key: bytes | None = b"173", offset: int | None = None
    ) -> Output | None:
        if offset is None:
            offset, self.offset = self.offset, self.offset + 1
        source = SourceRef(topic=topics.SUBMITTED, partition=0, offset=offset)
        return self.proc.process(key, raw, source, self.ledger.get, self.ledger.__setitem__)


def report(at: datetime, values: dict[str, int] | None = None, **kw: Any) -> ReportSubmitted:
    fields: dict[str, Any] = {
        "report_id": uuid.uuid4(),
        "dataset": "district-daily",
        "unit_id": "173",
        "report_date": DAY,
        "submitted_at": at,
        "submitted_by": "test",
        "values": VALID if values is None else values,
    }
    fields.update(kw)
    return ReportSubmitted(**fields)


def accepted(out: Output | None) -> ReportAccepted:
    assert out is not None and out.topic == topics.ACCEPTED, out
    return ReportAccepted.model_validate_json(out.value)


def rejected(out: Output | None) -> ReportRejected:
    assert out is not None and out.topic == topics.REJECTED, out
    return ReportRejected.model_validate_json(out.value)


def local(h: int, m: int, s: int) -> datetime:
    return datetime(2021, 7, 27, h, m, s, tzinfo=TZ)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(14, 59, 59), "on_time"),
        (local(15, 0, 0), "late"),  # due *before* 15:00; at 15:00 the unit is missing
        (local(15, 0, 1), "late"),
        # the same instants written in other zones decide the same way
        (local(14, 59, 59).astimezone(UTC), "on_time"),
        (local(15, 0, 0).astimezone(timezone(timedelta(hours=9))), "late"),
        (datetime(2021, 7, 27, 7, 59, 59, tzinfo=UTC), "on_time"),
        (datetime(2021, 7, 27, 8, 0, 1, tzinfo=UTC), "late"),
    ],
)
def test_timeliness_is_decided_against_the_local_deadline(at: datetime, expected: str) -> None:
    h = Harness()
    out = accepted(h.feed(report(at).to_json()))
    assert out.timeliness == expected
    assert out.deadline == local(15, 0, 0)
    assert out.revision == 1


def test_corrections_number_revisions_and_keep_first_timeliness() -> None:
    h = Harness()
    first = accepted(h.feed(report(local(14, 0, 0)).to_json()))
    second = accepted(h.feed(report(local(14, 30, 0), {**VALID, "cases_new": 4}).to_json()))
    third = accepted(
        h.feed(report(local(16, 0, 0), {**VALID, "cases_new": 5}, reason="rà soát lại").to_json())
    )
    assert [first.revision, second.revision, third.revision] == [1, 2, 3]
    assert third.timeliness == "on_time"  # decided by the first submission
    assert third.first_submitted_at == local(14, 0, 0)


def test_a_late_report_stays_late_after_a_correction() -> None:
    h = Harness()
    accepted(h.feed(report(local(16, 0, 0)).to_json()))
    fix = accepted(h.feed(report(local(16, 5, 0), reason="sai số").to_json()))
    assert (fix.revision, fix.timeliness) == (2, "late")


def test_late_correction_without_reason_is_rejected_and_changes_nothing() -> None:
    h = Harness()
    accepted(h.feed(report(local(14, 0, 0)).to_json()))
    out = rejected(h.feed(report(local(15, 30, 0), {**VALID, "cases_new": 9}).to_json()))
    assert [e.code for e in out.errors] == ["reason_required"]
    again = accepted(h.feed(report(local(15, 31, 0), reason="bổ sung").to_json()))
    assert again.revision == 2


def test_resent_report_id_is_dropped_not_counted_twice() -> None:
    h = Harness()
    original = report(local(14, 0, 0))
    accepted(h.feed(original.to_json()))
    resent = original.model_copy(update={"submitted_at": local(14, 5, 0)})
    assert h.feed(resent.to_json()) is None
    assert h.proc.counters.duplicates == 1
    nxt = accepted(h.feed(report(local(14, 10, 0)).to_json()))
    assert nxt.revision == 2  # the duplicate did not take a revision number


def test_replayed_message_after_crash_is_accepted_again_with_same_revision() -> None:
    """At-least-once: the same offset read again must produce its event again."""
    h = Harness()
    original = report(local(14, 0, 0))
    first = accepted(h.feed(original.to_json(), offset=41))
    replay = accepted(h.feed(original.to_json(), offset=41))
    assert (replay.report_id, replay.revision) == (first.report_id, first.revision)


def test_replay_writes_nothing_to_the_ledger_when_nothing_changed() -> None:
    h = Harness()
    original = report(local(14, 0, 0))
    accepted(h.feed(original.to_json(), offset=41))
    before = json.dumps(h.ledger, sort_keys=True)
    writes: list[str] = []
    source = SourceRef(topic=topics.SUBMITTED, partition=0, offset=41)
    h.proc.process(b"173", original.to_json(), source, h.ledger.get, lambda k, v: writes.append(k))
    assert writes == [] and json.dumps(h.ledger, sort_keys=True) == before


def test_decisions_made_out_of_order_are_redone_when_the_partition_is_read_again() -> None:
    """A worker that skipped ahead left a late correction decided before its original.

    Its results were never committed, so the next worker reads the partition again
    from the committed offset. The ledger it restores still holds the wrong decision;
    the replay must decide as if that run never happened (seen in the pipeline test).
    """
    h = Harness()
    original = report(local(14, 0, 0))
    late_fix = report(local(15, 30, 0), {**VALID, "cases_new": 9})  # no reason given
    skipped_ahead = accepted(h.feed(late_fix.to_json(), offset=83))
    assert (skipped_ahead.revision, skipped_ahead.timeliness) == (1, "late")  # wrong, uncommitted
    first = accepted(h.feed(original.to_json(), offset=74))
    assert (first.revision, first.timeliness) == (1, "on_time")
    assert [e.code for e in rejected(h.feed(late_fix.to_json(), offset=83)).errors] == [
        "reason_required"
    ]
    resent = accepted(h.feed(report(local(15, 31, 0), reason="bổ sung").to_json(), offset=90))
    assert (resent.revision, resent.timeliness) == (2, "on_time")


def test_reading_an_earlier_offset_again_forgets_only_what_came_after_it() -> None:
    h = Harness()
    a, b, c = (report(local(14, m, 0), {**VALID, "cases_new": m}) for m in (1, 2, 3))
    for r, off in ((a, 10), (b, 11), (c, 12)):
        accepted(h.feed(r.to_json(), offset=off))
    again = [accepted(h.feed(r.to_json(), offset=off)).revision for r, off in ((b, 11), (c, 12))]
    assert again == [2, 3]
    resent = a.model_copy(update={"submitted_at": local(14, 9, 0)})
    assert h.feed(resent.to_json(), offset=13) is None  # a's entry survived the re-reads


def test_reused_report_id_with_other_values_is_a_conflict() -> None:
    h = Harness()
    original = report(local(14, 0, 0))
    accepted(h.feed(original.to_json()))
    changed = original.model_copy(update={"values": {**VALID, "cases_new": 7}})
    out = rejected(h.feed(changed.to_json()))
    assert out.errors[0].code == "report_id_conflict"
    assert out.report_id == str(original.report_id)
    assert out.submission == json.loads(changed.to_json())  # kept whole, as submitted


def test_rule_violation_is_rejected_with_reasons_in_both_languages() -> None:
    h = Harness()
    bad = report(local(14, 0, 0), {"tests_pcr": 10, "tests_pcr_positive": 11})
    out = rejected(h.feed(bad.to_json()))
    assert out.errors[0].code == "pcr_positive_le_tests"
    assert "RT-PCR" in out.errors[0].message_vi and "cannot exceed" in out.errors[0].message_en
    assert out.unit_id == "173" and out.submission == json.loads(bad.to_json())
    # a rejected submission takes no revision: the next valid one is revision 1
    assert accepted(h.feed(report(local(14, 1, 0)).to_json())).revision == 1


def test_warnings_accept_with_a_flag() -> None:
    h = Harness()
    values = {"cases_new": 4, "cases_community": 1, "tests_pcr": 100, "tests_pcr_positive": 2}
    out = accepted(h.feed(report(local(14, 0, 0), values).to_json()))
    assert [w.code for w in out.warnings] == ["cases_le_positives"]
    assert "4" in out.warnings[0].message_en  # the numbers that tripped it are shown


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"\xff\xfe not json", "not_json"),
        (b"[1, 2, 3]", "not_json_object"),
        (b'{"schema": "baocao.report/v1", "unit_id": "173"}', "invalid_field"),
        (b"{" + b'"x": "' + b"a" * 70000 + b'"}', "payload_too_large"),
    ],
)
def test_foreign_garbage_becomes_a_rejection_and_processing_continues(
    raw: bytes, rule: str
) -> None:
    h = Harness()
    out = rejected(h.feed(raw, key=b"173"))
    assert out.errors[0].code == rule
    assert out.unit_id == "173"
    assert out.raw is None or len(out.raw) <= 1024
    assert accepted(h.feed(report(local(14, 0, 0)).to_json())).revision == 1


def test_rejection_id_is_deterministic_per_message() -> None:
    h = Harness()
    a = rejected(h.feed(b"nope", offset=5))
    b = rejected(h.feed(b"nope", offset=5))
    c = rejected(h.feed(b"nope!", offset=5))
    assert a.rejection_id == b.rejection_id != c.rejection_id


def test_ledger_state_is_json_serializable_for_the_changelog() -> None:
    h = Harness()
    accepted(h.feed(report(local(14, 0, 0)).to_json()))
    (state,) = h.ledger.values()
    assert json.loads(json.dumps(state)) == state


def test_entries_in_the_object_form_of_earlier_changelogs_still_decide() -> None:
    """Entries are now flat lists (half the memory); older changelogs hold JSON objects."""
    h = Harness()
    original = report(local(14, 0, 0))
    accepted(h.feed(original.to_json()))
    key = original.ledger_key
    stored = h.ledger[key]
    assert isinstance(stored, list)
    first, timeliness, revisions, rid, revision, content, partition, offset = stored
    h.ledger[key] = {  # what the worker wrote before
        "first_submitted_at": first,
        "timeliness": timeliness,
        "revisions": revisions,
        "seen": {rid: [revision, content, partition, offset]},
    }
    assert first_submission(h.ledger[key]) == (local(14, 0, 0), "on_time")
    resent = original.model_copy(update={"submitted_at": local(14, 5, 0)})
    assert h.feed(resent.to_json()) is None  # still known: a duplicate
    fix = accepted(h.feed(report(local(16, 0, 0), reason="rà soát").to_json()))
    assert (fix.revision, fix.timeliness, fix.first_submitted_at) == (2, "on_time", local(14, 0, 0))
    assert first_submission(h.ledger[key]) == (local(14, 0, 0), "on_time")
    assert LedgerEntry.from_json(h.ledger[key]).seen.keys() == {rid, str(fix.report_id)}
