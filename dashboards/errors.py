"""Errors of the dashboards package, each with a message in Vietnamese and English."""

from __future__ import annotations

from contract.errors import BaocaoError


class DashboardError(BaocaoError):
    """A dashboard cannot be generated, expanded or published."""


class MacroError(DashboardError):
    """A panel's SQL uses a macro or variable the expander does not know (a definition bug)."""


class VariableError(DashboardError):
    """A request gave a variable or time range value that is not allowed (HTTP 400)."""
