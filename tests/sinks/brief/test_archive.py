"""The archive and the maker on a real chDB warehouse: versions on disk and in `briefs`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from sinks.brief.archive import NATIONAL, Archive, Version
from sinks.brief.maker import BriefMaker, content_hash
from tests.sinks.brief import replay
from tests.sinks.brief.beside import BRIEF_AT, after, arrive, held_back, own_database
from warehouse.client import Warehouse

TN, DAY = replay.THAI_NGUYEN, replay.DAY


@pytest.fixture
def own(warehouse: Warehouse, registry: Registry, replayed: replay.Replayed) -> Iterator[Warehouse]:
    with own_database(warehouse, registry, replayed) as wh:
        yield wh


def maker_on(wh: Warehouse, root: Path, clock: ManualClock) -> BriefMaker:
    registry, catalog = Registry.load(), Catalog.load()
    return BriefMaker(wh, registry, catalog, Archive(root, wh), replay.TZ, clock)


def test_a_late_report_after_the_brief_makes_a_second_version_and_both_stay(
    own: Warehouse, replayed: replay.Replayed, tmp_path: Path
) -> None:
    clock = ManualClock(BRIEF_AT)
    maker = maker_on(own, tmp_path, clock)
    assert {(d.area, d.version) for d in maker.pending([DAY])} >= {(TN, 0), (NATIONAL, 0)}
    first = maker.make(TN, DAY)
    assert first is not None and first.version == 1
    assert (first.units_reported, first.units_expected) == (10, 12)  # 7 + 3 on time, of 9 + 3
    assert maker.make(TN, DAY) is None, "nothing changed: no second version"
    assert TN not in {d.area for d in maker.pending([DAY])}
    v1_pdf = (tmp_path / "19/2021-07-27/v1.pdf").read_bytes()

    late = held_back(replayed)  # Phổ Yên's report at 18:06
    arrive(own, late)
    clock.set(after(late))
    assert (TN, 1) in {(d.area, d.version) for d in maker.pending([DAY])}
    second = maker.make(TN, DAY)
    assert second is not None and second.version == 2
    assert second.content_hash != first.content_hash
    assert second.units_reported == first.units_reported + 1

    listed = maker.archive.versions(DAY, DAY, TN)
    assert [v.version for v in listed] == [2, 1]  # newest first, the earlier kept
    assert listed[1] == first
    latest = maker.archive.latest([DAY])[(TN, DAY)]
    assert latest == second
    assert (tmp_path / "19/2021-07-27/v1.pdf").read_bytes() == v1_pdf, "v1 is never rewritten"
    for version in (1, 2):
        for fmt in ("pdf", "docx", "html"):
            assert (tmp_path / f"19/2021-07-27/v{version}.{fmt}").stat().st_size > 10_000
    html_v2 = (tmp_path / "19/2021-07-27/v2.html").read_text("utf-8")
    assert "Thành phố Phổ Yên" in html_v2


def test_the_content_hash_ignores_when_and_which_version(
    own: Warehouse, replayed: replay.Replayed, tmp_path: Path
) -> None:
    arrive(own, held_back(replayed))
    registry, catalog = Registry.load(), Catalog.load()
    from sinks.brief.gather import gather

    now = after(held_back(replayed))
    one = gather(own, registry, catalog, TN, DAY, replay.TZ, now, 1)
    two = gather(own, registry, catalog, TN, DAY, replay.TZ, now + timedelta(hours=2), 7)
    assert content_hash(one) == content_hash(two)
    other = gather(own, registry, catalog, "20", DAY, replay.TZ, now, 1)
    assert content_hash(other) != content_hash(one)


def test_a_redelivered_report_moves_no_mark_and_makes_no_version(
    own: Warehouse, replayed: replay.Replayed, tmp_path: Path
) -> None:
    clock = ManualClock(BRIEF_AT)
    maker = maker_on(own, tmp_path, clock)
    assert maker.make(TN, DAY) is not None
    early = [a for a in replayed.accepted if a.report_date == DAY and a.submitted_at < BRIEF_AT]
    arrive(own, early[:3])  # the sink wrote a batch twice
    clock.advance(timedelta(minutes=30))
    assert TN not in {d.area for d in maker.pending([DAY])}


def test_files_of_a_version_never_listed_are_overwritten_by_the_next_attempt(
    own: Warehouse, tmp_path: Path
) -> None:
    # A crash after the files, before the row: the table still says v1 is free.
    folder = tmp_path / "19" / "2021-07-27"
    folder.mkdir(parents=True)
    (folder / "v1.pdf").write_bytes(b"half a PDF")
    made = maker_on(own, tmp_path, ManualClock(BRIEF_AT)).make(TN, DAY)
    assert made is not None and made.version == 1
    assert (folder / "v1.pdf").read_bytes().startswith(b"%PDF")


def test_a_version_survives_its_json_and_its_row(own: Warehouse, tmp_path: Path) -> None:
    made = maker_on(own, tmp_path, ManualClock(BRIEF_AT)).make(NATIONAL, DAY)
    assert made is not None
    assert Version.from_json(made.to_json()) == made
    assert made.path == "national/2021-07-27/v1" and made.url("pdf").endswith("v1.pdf")
    assert made.cutoff.isoformat() == "2021-07-27T08:00:00+00:00"  # 15:00 local


@pytest.mark.parametrize(
    ("area", "name"),
    [
        ("..", "v1.pdf"),
        ("19/..", "v1.pdf"),
        ("19", "../v1.pdf"),
        ("19", "v1.pdf/.."),
        ("19", "v0.pdf"),
        ("19", "v1.exe"),
        ("19", ".v1.pdf.tmp"),
        ("/etc", "passwd"),
    ],
)
def test_no_path_outside_the_archive_is_ever_opened(
    area: str, name: str, own: Warehouse, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "briefs", own)
    (tmp_path / "v1.pdf").write_bytes(b"outside")
    (tmp_path / "briefs" / "19" / "2021-07-27").mkdir(parents=True)
    (tmp_path / "briefs" / "19" / "2021-07-27" / ".v1.pdf.tmp").write_bytes(b"half")
    assert archive.file(area, DAY, name) is None
