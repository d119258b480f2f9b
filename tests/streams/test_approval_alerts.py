"""A returned report raises one alert for its submitter; approving or accepting raises none.

The agent's decision is ``returned_alert`` (no Faust needed); that a real worker sends
it once on the alerts topic, even when the return is delivered twice, is shown end to
end by ``tests/integration/test_approvals.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ApprovalRecorded
from contract.registry import Registry
from contract.settings import Settings
from streams.app import create_app
from streams.approval_alerts import returned_alert

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 7, 27)
NOW = datetime(2021, 7, 27, 16, 5, tzinfo=TZ)
REGISTRY = Registry.load()
CHECKPOINT = "CP-19-01"  # a lockdown post in Phú Bình, reviewed by its district, 173


def approval(action: str = "return", revision: int = 1, **over: Any) -> ApprovalRecorded:
    fields: dict[str, Any] = {
        "approval_id": ApprovalRecorded.id_of(
            action, "checkpoint-daily", CHECKPOINT, DAY, revision
        ),
        "action": action,
        "dataset": "checkpoint-daily",
        "unit_id": CHECKPOINT,
        "report_date": DAY,
        "revision": revision,
        "values": {"people_screened": 410, "tests_antigen": 12},
        "by_name": "ytế-phú-bình",
        "by_unit": "173",
        "reason": "Thiếu số test nhanh dương tính." if action == "return" else "",
        "decided_at": NOW,
        **over,
    }
    return ApprovalRecorded.model_validate(fields)


def alert_of(event: ApprovalRecorded | bytes) -> Any:
    value = event if isinstance(event, bytes) else event.to_json()
    return returned_alert(value, REGISTRY, ManualClock(NOW))


def test_a_return_tells_the_submitter_who_sent_it_back_and_why_in_both_languages() -> None:
    alert = alert_of(approval())
    assert alert is not None
    assert (alert.kind, alert.severity, alert.unit_id) == ("returned", "warning", CHECKPOINT)
    assert alert.alert_id == f"returned:checkpoint-daily:{CHECKPOINT}:2021-07-27:r1"
    assert (alert.dataset, alert.report_date, alert.raised_at) == ("checkpoint-daily", DAY, NOW)
    post = "Chốt kiểm soát dịch QL37, xã Kha Sơn, huyện Phú Bình"
    assert alert.message_vi == (
        f"Báo cáo ngày 27/07/2021 (checkpoint-daily) của {post} bị Huyện Phú Bình "
        "(ytế-phú-bình) trả lại: Thiếu số test nhanh dương tính. Vui lòng sửa và gửi lại."
    )
    assert alert.message_en == (
        f"The checkpoint-daily report of {post} for 2021-07-27 was returned by Huyện Phú Bình "
        "(ytế-phú-bình): Thiếu số test nhanh dương tính. Please correct it and send it again."
    )
    assert alert.details == {
        "unit_name": post,
        "province_id": "19",  # the notifier routes by province
        "district_id": "173",
        "parent_id": "173",
        "approval_id": f"return:checkpoint-daily:{CHECKPOINT}:2021-07-27:r1",
        "revision": 1,
        "by_unit": "173",
        "by_unit_name": "Huyện Phú Bình",
        "by_name": "ytế-phú-bình",
        "reason": "Thiếu số test nhanh dương tính.",
    }


def test_a_redelivered_return_has_the_same_id_and_a_returned_correction_a_new_one() -> None:
    first = alert_of(approval())
    later = alert_of(approval(decided_at=NOW.replace(hour=17)))  # the same decision, again
    second = alert_of(approval(revision=2, reason="Vẫn thiếu"))
    assert first is not None and later is not None and second is not None
    assert first.alert_id == later.alert_id
    assert second.alert_id == f"returned:checkpoint-daily:{CHECKPOINT}:2021-07-27:r2"
    assert "Vẫn thiếu. Vui lòng" in second.message_vi


@pytest.mark.parametrize("action", ["approve", "accept"])
def test_approving_or_accepting_raises_no_alert(action: str) -> None:
    assert alert_of(approval(action)) is None


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b'{"schema": "baocao.approval/v1", "action": "return"}',
        # a return without a reason is not an approval event at all
        approval("approve").to_json().replace(b'"approve"', b'"return"'),
    ],
)
def test_a_message_that_is_not_an_approval_raises_nothing(value: bytes) -> None:
    assert alert_of(value) is None


def test_units_missing_from_the_registry_are_named_by_their_ids() -> None:
    alert = alert_of(approval(unit_id="X-1", by_unit="X-9", approval_id="return:x"))
    assert alert is not None
    assert "của X-1 bị X-9 (ytế-phú-bình) trả lại" in alert.message_vi
    assert "province_id" not in alert.details


def test_the_worker_listens_to_the_approvals_topic_and_remembers_what_it_sent() -> None:
    app = create_app(Settings(), REGISTRY, Catalog.load(), app_id="t-approvals")
    (agent,) = [a for a in app.agents.values() if a.name.endswith("announce_returns")]
    assert agent.channel.get_topic_name() == "approvals"  # type: ignore[attr-defined]
    assert "returned_alerts" in app.tables
