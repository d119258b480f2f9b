"""The known scenario in a chDB warehouse, and the viewer serving it, for this package."""

from tests.support.dashboard_warehouse import filled, viewer_url, warehouse

__all__ = ["filled", "viewer_url", "warehouse"]
