"""What a dashboard is: panels of SQL over the warehouse, titled in Vietnamese and English."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

PanelKind = Literal["timeseries", "stat", "table", "bar", "map", "grid"]

#: The Grafana datasource every panel reads; provisioning gives it this uid.
DATASOURCE_UID = "baocao-clickhouse"
DATASOURCE_TYPE = "grafana-clickhouse-datasource"

_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Band:
    """One value of a coloured column: its colour and its name (a legend needs no colour)."""

    value: str
    colour: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Bands:
    """Colour ``column`` by its value: a map's points, a table's or a grid's cells.

    ``missing`` is how a NULL is shown (e.g. a level that could not be assessed).
    """

    column: str
    values: tuple[Band, ...]
    missing: Band


@dataclass(frozen=True)
class Panel:
    """One chart or table: its SQL and how to draw what the SQL returns.

    Columns follow a convention both renderers understand: for ``timeseries`` and
    ``bar`` the first column is the x axis (a day or a name) and every other numeric
    column is a series; ``stat`` shows the first value of the first row; ``map`` needs
    ``lat``, ``lon``, ``name`` and ``value``; ``grid`` needs ``unit``, ``day`` and
    ``status`` (a heat-map style table). With ``bands``, a map colours its points by
    the banded column (e.g. ``level``) instead of sizing them by ``value``.

    ``right_axis``: series drawn against an axis of their own on the right, in
    ``right_unit`` (a rate beside counts: on the counts' axis it is flat at 0).
    """

    key: str
    title_vi: str
    title_en: str
    kind: PanelKind
    sql: str
    width: int = 12  # Grafana grid columns out of 24
    height: int = 8
    unit: str = "short"
    description_vi: str = ""
    description_en: str = ""
    bands: Bands | None = None
    right_axis: tuple[str, ...] = ()
    right_unit: str = "percent"

    @property
    def variables(self) -> set[str]:
        """Names of the dashboard variables the SQL uses."""
        return set(_VARIABLE.findall(self.sql))


@dataclass(frozen=True)
class Variable:
    """A dashboard variable (Grafana templating), filled from a warehouse query."""

    name: str
    label_vi: str
    label_en: str
    query: str
    default: str = ""
    include_all: bool = False  # "All" is the empty string: SQL treats '' as no filter


@dataclass(frozen=True)
class Dashboard:
    """A titled set of panels with its variables; ``uid`` is stable across generations."""

    uid: str
    title_vi: str
    title_en: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = field(default=("baocao",))
    time_from: str = "now-14d"

    def panel(self, key: str) -> Panel:
        """Return the panel with this key."""
        for p in self.panels:
            if p.key == key:
                return p
        raise KeyError(f"{self.uid} has no panel {key!r}")

    @property
    def as_of(self) -> Panel:
        """The "data as of" stat every dashboard carries (key ``as_of``)."""
        return self.panel("as_of")
