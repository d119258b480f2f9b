"""Alert texts name units as the registry does (diacritics kept), in both languages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from contract.datasets import Catalog, Dataset
from contract.events import ReportAccepted
from contract.registry import Registry, Unit
from streams import messages

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 7, 27)
DEADLINE = datetime(2021, 7, 27, 15, 0, tzinfo=TZ)
REGISTRY, CATALOG = Registry.load(), Catalog.load()


def unit(unit_id: str) -> Unit:
    found = REGISTRY.get(unit_id)
    assert found is not None
    return found


def dataset(code: str = "district-daily") -> Dataset:
    found = CATALOG.get(code)
    assert found is not None
    return found


def test_reminder_and_escalation_keep_diacritics_and_say_report_once() -> None:
    reminder = messages.reminder(unit("218"), dataset(), DAY, DEADLINE, DEADLINE)
    assert reminder.message_vi == (
        "Nhắc: Huyện Lục Nam chưa gửi báo cáo ngày cấp huyện ngày 27/07/2021; hạn chót 15:00."
    )
    assert reminder.message_en == (
        "Reminder: Huyện Lục Nam has not sent its District daily report for 2021-07-27;"
        " due at 15:00."
    )
    escalated = messages.missing(unit("218"), dataset(), DAY, DEADLINE, DEADLINE, unit("24"))
    assert escalated.message_en.endswith("Missing two days in a row: Tỉnh Bắc Giang to follow up.")
    assert "đề nghị Tỉnh Bắc Giang đôn đốc" in escalated.message_vi


def test_late_alert_names_the_unit_in_full() -> None:
    report = ReportAccepted.model_validate(
        {
            "report_id": uuid.uuid4(),
            "dataset": "district-daily",
            "unit_id": "218",
            "report_date": DAY,
            "submitted_at": DEADLINE.replace(hour=16),
            "submitted_by": "t",
            "values": {"cases_new": 1},
            "revision": 1,
            "timeliness": "late",
            "first_submitted_at": DEADLINE.replace(hour=16),
            "deadline": DEADLINE,
            "accepted_at": DEADLINE.replace(hour=16),
        }
    )
    alert = messages.late(report, unit("218"), dataset(), DEADLINE.replace(hour=16))
    assert alert.message_en == (
        "Huyện Lục Nam sent its District daily report for 2021-07-27 late,"
        " at 2021-07-27 16:00 (due 15:00)."
    )
    assert alert.message_vi.startswith("Huyện Lục Nam gửi báo cáo ngày cấp huyện ngày 27/07/2021")


def test_a_dataset_named_without_report_gets_the_word_once() -> None:
    named = dataset().model_copy(update={"name_vi": "Chốt kiểm soát", "name_en": "Checkpoint"})
    alert = messages.missing(unit("218"), named, DAY, DEADLINE, DEADLINE, None)
    assert "its Checkpoint report for" in alert.message_en
    assert "chưa gửi báo cáo Chốt kiểm soát ngày" in alert.message_vi
