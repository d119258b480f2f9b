"""The warehouse: its schema and views, its one client, and the reads built on it.

``sinks/`` writes through it; ``dashboards/`` and ``baocao/`` read through it. It
imports only ``contract``.
"""

from warehouse.client import Warehouse
from warehouse.errors import RowError, WarehouseError, WarehouseUnavailable

__all__ = ["RowError", "Warehouse", "WarehouseError", "WarehouseUnavailable"]
