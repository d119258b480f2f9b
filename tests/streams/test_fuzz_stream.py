"""Fuzzing the stream's decision path: 10,500 generated inputs, none may crash it.

Every input must come out accepted (then it obeys every error rule) or rejected with
reasons in Vietnamese and English. Runs in CI (no profile trims the counts).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ReportAccepted, ReportRejected, SourceRef
from contract.registry import Registry
from streams.processor import Stored, SubmissionProcessor

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CATALOG = Catalog.load()
REGISTRY = Registry.load()
#: Units that must send each dataset (a district does not send a checkpoint's form).
UNITS = {
    ds.code: sorted(u.unit_id for u in REGISTRY.expected(ds.code, date(2021, 7, 27)))
    for ds in CATALOG.datasets
}


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


def processor() -> SubmissionProcessor:
    clock = ManualClock(datetime(2021, 7, 27, 9, tzinfo=UTC))
    return SubmissionProcessor(REGISTRY, CATALOG, TZ, clock, 65536)


def decide(raw: bytes) -> ReportAccepted | ReportRejected:
    ledger: dict[str, Stored] = {}
    source = SourceRef(topic=topics.SUBMITTED, partition=0, offset=7)
    out = processor().process(b"k", raw, source, ledger.get, ledger.__setitem__)
    assert out is not None  # a first sighting is never a duplicate
    # --hypothesis-show-statistics: how many of each, and why
    event(out.topic)
    if out.topic == topics.ACCEPTED:
        accepted = ReportAccepted.model_validate_json(out.value)
        dataset = CATALOG.get(accepted.dataset)
        assert dataset is not None
        assert all(isinstance(v, int) and v >= 0 for v in accepted.values.values())
        broken = [v for v in dataset.check_rules(accepted.values) if v.severity == "error"]
        assert broken == [], broken
        return accepted
    assert out.topic == topics.REJECTED
    rejected = ReportRejected.model_validate_json(out.value)
    assert rejected.errors
    event(rejected.errors[0].code)
    for problem in rejected.errors:
        assert problem.message_vi.strip() and problem.message_en.strip(), problem
    return rejected


@fuzz(3000)
@given(st.binary(max_size=2048))
def test_any_bytes_are_decided(raw: bytes) -> None:
    decide(raw)


@fuzz(2500)
@given(json_values)
def test_any_json_document_is_decided(doc: Any) -> None:
    decide(json.dumps(doc).encode())


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A report whose fields are mostly right and sometimes wildly wrong."""
    dataset = draw(st.sampled_from(CATALOG.datasets))
    keys = CATALOG.value_keys(dataset)
    clean = draw(st.booleans())  # half the cases only break rules, if anything
    counts = st.integers(min_value=0, max_value=50 if clean else 50_000)
    odd_count = st.integers(min_value=-(2**64), max_value=2**64) | json_scalars
    values = draw(
        st.dictionaries(
            st.sampled_from(keys) if clean else st.sampled_from(keys) | st.text(max_size=20),
            counts if clean else counts | odd_count,
            min_size=1 if clean else 0,
            max_size=3 if clean else len(keys) + 2,
        )
    )
    doc: dict[str, Any] = {
        "schema": "baocao.report/v1",
        "report_id": str(uuid.uuid4()),
        "dataset": dataset.code,
        "unit_id": draw(st.sampled_from(UNITS[dataset.code]) if clean else st.text(max_size=8)),
        "report_date": draw(
            st.dates(date(2020, 1, 1), date(2022, 1, 1)).map(date.isoformat) | st.text(max_size=12)
        ),
        "submitted_at": "2021-07-27T08:00:00+07:00",
        "submitted_by": "fuzz",
        "values": values,
    }
    for name in [] if clean else draw(st.lists(st.sampled_from(sorted(doc)), max_size=2)):
        doc[name] = draw(json_values)  # one or two fields replaced by anything
    return doc


@fuzz(3500)
@given(near_valid())
def test_near_valid_reports_are_decided(doc: dict[str, Any]) -> None:
    decide(json.dumps(doc).encode())


@fuzz(1500)
@given(st.data())
def test_rules_evaluate_any_counts(data: st.DataObject) -> None:
    dataset = data.draw(st.sampled_from(CATALOG.datasets))
    keys = CATALOG.value_keys(dataset)
    values = data.draw(
        st.dictionaries(st.sampled_from(keys), st.integers(min_value=0, max_value=10**12))
    )
    for violation in dataset.check_rules(values):
        assert violation.severity in ("error", "warning")
        assert violation.message_vi and violation.message_en
