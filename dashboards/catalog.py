"""Every dashboard baocao ships, in menu order."""

from __future__ import annotations

from dashboards.checkpoints import CHECKPOINTS
from dashboards.compliance import COMPLIANCE
from dashboards.model import Dashboard
from dashboards.quality import QUALITY
from dashboards.signals import SIGNALS
from dashboards.situation import SITUATION

DASHBOARDS: tuple[Dashboard, ...] = (SITUATION, SIGNALS, COMPLIANCE, CHECKPOINTS, QUALITY)


def by_uid(uid: str) -> Dashboard | None:
    """Return the dashboard with this uid, or None."""
    return next((d for d in DASHBOARDS if d.uid == uid), None)
