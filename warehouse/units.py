"""The unit registry as rows of the warehouse's ``units`` table (``Warehouse.load_units``)."""

from __future__ import annotations

from contract.registry import Unit, UnitKind
from warehouse import schema
from warehouse.errors import RowError
from warehouse.table import Row, clamp_date

UNITS_COLUMNS = schema.UNITS.column_names


def unit_row(unit: Unit, version: int) -> Row:
    """One registry unit; a district's own district_id is itself."""
    if any(count < 0 for count in unit.population_by_age.values()):
        raise RowError(f"unit {unit.unit_id}: a population band is negative")
    district = unit.district_id
    if district is None and unit.kind == UnitKind.DISTRICT:
        district = unit.unit_id
    return (
        unit.unit_id,
        unit.name,
        unit.name_ascii,
        unit.kind.value,
        unit.parent_id,
        unit.province_id,
        district,
        unit.population,
        dict(unit.population_by_age),
        unit.lat,
        unit.lon,
        list(unit.datasets),
        clamp_date(unit.active_from),
        None if unit.active_to is None else clamp_date(unit.active_to),
        version,
    )
