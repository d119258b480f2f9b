"""A correction after the cut-off is listed apart: the figures stay those of the cut-off."""

from __future__ import annotations

from datetime import datetime

from contract.datasets import Catalog
from contract.registry import Registry
from sinks.brief.gather import gather
from sinks.brief.render import render
from tests.sinks.brief import replay
from warehouse.client import Warehouse


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2021, 7, 27, hour, minute, tzinfo=replay.TZ)


def test_a_correction_after_the_cutoff_is_a_late_addition_not_a_new_figure(
    corrected: Warehouse, registry: Registry, catalog: Catalog
) -> None:
    brief = gather(corrected, registry, catalog, "19", replay.DAY, replay.TZ, at(17), 2)
    community = next(f for f in brief.headline if f.code == "cases_community")
    assert community.today == 6  # as of 15:00
    (addition,) = brief.late_additions  # Phổ Yên's late report (18:06) is not in yet
    assert (addition.name, addition.correction, addition.revision) == ("Huyện Phú Bình", True, 2)
    assert addition.reason == "Bổ sung 1 ca sau rà soát"
    changes = {c.code: (c.before, c.after) for c in addition.changes}
    assert changes == {"cases_new": (6, 7), "cases_community": (6, 7)}
    assert brief.after_review["cases_community"] == 7
    statuses = {u.name: u.status for u in brief.compliance[0].units}
    assert statuses["Huyện Phú Bình"] == "on_time"  # a correction never makes it late
    assert brief.version == 2
    text = render(brief, "html").decode()
    assert "Ca mắc trong cộng đồng: 6 → 7" in text and "Phiên bản 2" in text

    before = gather(corrected, registry, catalog, "19", replay.DAY, replay.TZ, at(16), 1)
    assert before.late_additions == () and before.after_review["cases_community"] == 6


def test_a_brief_made_before_the_deadline_speaks_for_its_own_instant(
    warehouse: Warehouse, registry: Registry, catalog: Catalog
) -> None:
    brief = gather(warehouse, registry, catalog, "19", replay.DAY, replay.TZ, at(11), 1)
    assert brief.cutoff == at(11)
    first = {u.name: u.first_submitted_at for c in brief.compliance for u in c.units}
    assert all(t is None or t < at(11) for t in first.values())
    # Phú Bình reported its six cases at 11:08: not yet part of an 11:00 brief.
    statuses = {u.name: u.status for u in brief.compliance[0].units}
    assert statuses["Huyện Phú Bình"] == "missing" and not brief.places
    assert "Số liệu tính đến 11:00 ngày 27/7/2021" in render(brief, "html").decode()
