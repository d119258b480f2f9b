"""Who may approve, accept or return which report, from which state (the demo registry:
province 19 Thái Nguyên, its district 173 Phú Bình with commune 05908 and checkpoint
CP-19-01, its district 164; Lạng Sơn's district 189 and checkpoint CP-20-01)."""

from __future__ import annotations

from datetime import date

import pytest

from contract import approval_rules as rules
from contract.approval_rules import UnitDay
from contract.events import ApprovalAction
from contract.registry import Registry, Unit

DAY = date(2021, 7, 27)
SUBMITTED = UnitDay("submitted", 1, 0, "")
APPROVED = UnitDay("approved", 1, 1, "approve")
ACCEPTED = UnitDay("accepted", 1, 1, "accept")
RETURNED = UnitDay("returned", 1, 0, "return")
REOPENED = UnitDay("reopened", 2, 1, "approve")
REOPENED_AFTER_ACCEPT = UnitDay("reopened", 2, 1, "accept")


@pytest.fixture(scope="module")
def units() -> dict[str, Unit]:
    r = Registry.load()
    found = {i: r.get(i) for i in ("19", "173", "05908", "CP-19-01", "164", "189", "CP-20-01")}
    assert all(found.values())
    return found  # type: ignore[return-value]


def code(
    units: dict[str, Unit], who: str, target: str, action: ApprovalAction, day: UnitDay
) -> str | None:
    why = rules.judge(units[who], units[target], action, day, reason="số chưa khớp")
    if why is not None:
        assert why.message_vi and why.message_en and why.message_vi != why.message_en
    return why.code if why is not None else None


# ---------------------------------------------------------------- who


def test_a_district_reviews_its_communes_and_checkpoints_not_itself_nor_others(
    units: dict[str, Unit],
) -> None:
    district = units["173"]
    assert rules.reviews(district, units["05908"]) and rules.reviews(district, units["CP-19-01"])
    assert not rules.reviews(district, units["173"])  # its own report goes to the province
    assert not rules.reviews(district, units["164"])  # a neighbour
    assert not rules.reviews(district, units["CP-20-01"])  # another province's checkpoint


def test_a_province_reviews_every_unit_of_its_province_only(units: dict[str, Unit]) -> None:
    province = units["19"]
    for target in ("173", "05908", "CP-19-01", "164"):
        assert rules.reviews(province, units[target]), target
    assert not rules.reviews(province, units["19"])
    assert not rules.reviews(province, units["189"])
    assert not rules.reviews(province, units["CP-20-01"])


def test_communes_and_checkpoints_review_nobody(units: dict[str, Unit]) -> None:
    assert not rules.is_reviewer(units["05908"]) and not rules.is_reviewer(units["CP-19-01"])
    assert code(units, "CP-19-01", "05908", "approve", SUBMITTED) == "not_a_reviewer"
    assert rules.is_reviewer(units["173"]) and rules.is_reviewer(units["19"])


@pytest.mark.parametrize(
    ("who", "target", "action", "expected"),
    [
        ("173", "173", "approve", "own_report"),
        ("19", "19", "accept", "own_report"),
        ("173", "164", "approve", "not_yours_to_review"),
        ("173", "CP-20-01", "return", "not_yours_to_review"),
        ("19", "189", "accept", "not_yours_to_review"),
        ("173", "05908", "accept", "province_accepts"),
        ("173", "05908", "approve", None),
        ("173", "CP-19-01", "return", None),
        ("19", "05908", "approve", None),
        ("19", "173", "return", None),
    ],
)
def test_who_may_do_what(
    units: dict[str, Unit], who: str, target: str, action: ApprovalAction, expected: str | None
) -> None:
    assert code(units, who, target, action, SUBMITTED) == expected


def test_a_stranger_learns_nothing_about_a_unit_day(units: dict[str, Unit]) -> None:
    """Not yours comes before not reported: the answer does not tell whether it was."""
    assert code(units, "173", "164", "approve", rules.NOT_REPORTED) == "not_yours_to_review"


# ---------------------------------------------------------------- state


def test_nothing_to_review_before_the_unit_reports(units: dict[str, Unit]) -> None:
    for action in rules.ACTIONS:
        assert code(units, "19", "05908", action, rules.NOT_REPORTED) == "not_reported"
    assert rules.can(units["173"], units["05908"], rules.NOT_REPORTED) == []


def test_a_return_needs_a_reason(units: dict[str, Unit]) -> None:
    for blank in ("", "   "):
        why = rules.judge(units["173"], units["05908"], "return", SUBMITTED, reason=blank)
        assert why is not None and why.code == "reason_required" and why.field == "reason"


@pytest.mark.parametrize("day", [SUBMITTED, RETURNED, REOPENED, REOPENED_AFTER_ACCEPT])
def test_a_district_approves_from_submitted_returned_and_reopened(
    units: dict[str, Unit], day: UnitDay
) -> None:
    assert code(units, "173", "05908", "approve", day) is None
    assert not rules.repeats("approve", day)


def test_approving_the_same_revision_again_is_a_repeat_not_an_error(
    units: dict[str, Unit],
) -> None:
    assert code(units, "173", "05908", "approve", APPROVED) is None
    assert rules.repeats("approve", APPROVED)
    assert "approve" not in rules.can(units["173"], units["05908"], APPROVED)


def test_an_accepted_report_is_the_province_s_to_return_only(units: dict[str, Unit]) -> None:
    assert code(units, "173", "05908", "approve", ACCEPTED) == "already_accepted"
    assert code(units, "173", "05908", "return", ACCEPTED) == "already_accepted"
    assert code(units, "19", "05908", "approve", ACCEPTED) == "already_accepted"
    assert code(units, "19", "05908", "return", ACCEPTED) is None
    assert code(units, "19", "05908", "accept", ACCEPTED) is None  # a repeat
    assert rules.repeats("accept", ACCEPTED)
    assert rules.can(units["19"], units["05908"], ACCEPTED) == ["return"]
    assert rules.can(units["173"], units["05908"], ACCEPTED) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (APPROVED, None),
        (SUBMITTED, "not_approved_yet"),
        (RETURNED, "not_approved_yet"),
        (REOPENED, "not_approved_yet"),  # corrected after approval: approve it again first
        (REOPENED_AFTER_ACCEPT, "not_approved_yet"),
    ],
)
def test_the_province_accepts_a_commune_s_report_once_its_district_approved_it(
    units: dict[str, Unit], day: UnitDay, expected: str | None
) -> None:
    assert code(units, "19", "05908", "accept", day) == expected
    assert code(units, "19", "CP-19-01", "accept", day) == expected


@pytest.mark.parametrize("day", [SUBMITTED, REOPENED, RETURNED, APPROVED])
def test_a_district_s_own_report_goes_straight_to_the_province(
    units: dict[str, Unit], day: UnitDay
) -> None:
    assert rules.goes_to_province(units["173"])
    assert not rules.goes_to_province(units["05908"])
    assert code(units, "19", "173", "accept", day) is None


def test_return_from_any_reported_state(units: dict[str, Unit]) -> None:
    for day in (SUBMITTED, APPROVED, RETURNED, REOPENED, REOPENED_AFTER_ACCEPT):
        assert code(units, "173", "05908", "return", day) is None, day
        assert code(units, "19", "173", "return", day) is None, day


def test_what_each_reviewer_can_do_now(units: dict[str, Unit]) -> None:
    district, province = units["173"], units["19"]
    assert rules.can(district, units["05908"], SUBMITTED) == ["approve", "return"]
    assert rules.can(district, units["05908"], APPROVED) == ["return"]
    assert rules.can(district, units["173"], SUBMITTED) == []
    assert rules.can(province, units["05908"], SUBMITTED) == ["approve", "return"]
    assert rules.can(province, units["05908"], APPROVED) == ["accept", "return"]
    assert rules.can(province, units["173"], SUBMITTED) == ["approve", "accept", "return"]


def test_the_listing_of_a_district_and_of_a_province() -> None:
    registry = Registry.load()
    district, province = registry.get("173"), registry.get("19")
    assert district is not None and province is not None
    mine = rules.reviewed_units(district, registry, "checkpoint-daily", DAY)
    assert [u.unit_id for u in mine] == ["CP-19-01", "CP-19-02", "CP-19-03"]
    # communes of the demo report no dataset; one that reported anyway is listed
    assert rules.reviewed_units(district, registry, "district-daily", DAY) == []
    extra = rules.reviewed_units(district, registry, "district-daily", DAY, ["05908", "164"])
    assert [u.unit_id for u in extra] == ["05908"]
    theirs = rules.reviewed_units(province, registry, "district-daily", DAY)
    ids = [u.unit_id for u in theirs]
    assert "173" in ids and "164" in ids and "19" not in ids and "189" not in ids
    assert (
        len(ids)
        == len(set(ids))
        == sum(1 for u in registry.filter(province="19") if "district-daily" in u.datasets)
    )
    # a unit no longer active that day is not expected
    later = rules.reviewed_units(province, registry, "district-daily", date(2025, 7, 1))
    assert later == []
