"""A DHIS2 ``dataValueSets`` document as baocao submissions, one per unit, day and dataset.

Every row is checked before any report is built (unknown data elements, combos and
organisation units, periods that are not daily, values that are not counts), and every
report is checked as ``baocao submit`` checks it before anything is sent: a file with
one bad row sends nothing. A report's ``report_id`` is derived from what it says
(dataset, unit, day, values, note, reason): importing the same file again sends the
same reports, which the stream drops as re-sends; changed values make a new revision.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from baocao.dhis2.mapping import DatasetMapping, Mapping
from contract.clock import Clock
from contract.datasets import Catalog
from contract.errors import SubmissionError
from contract.events import ReportSubmitted
from contract.reasons import Reason
from contract.registry import Registry
from producers.ingest import build_report, preflight

#: The namespace of imported reports' ids (uuid5 of what a report says).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://baocao/dhis2/dataValueSets")
DAILY = re.compile(r"^\d{8}$")
#: DHIS2's default attribute option combo (by code and by its well-known UID).
DEFAULT_ATTRIBUTE = ("default", "HllvX50cXC0")


@dataclass(frozen=True)
class Imported:
    reports: list[ReportSubmitted]
    values: int
    skipped_deleted: int


def report_id(fields: AnyMapping[str, Any]) -> uuid.UUID:
    """The id a report gets from what it says: the same content, the same id."""
    body = {k: fields[k] for k in ("dataset", "unit_id", "report_date", "values", "note", "reason")}
    return uuid.uuid5(NAMESPACE, json.dumps(body, sort_keys=True, ensure_ascii=False))


def note_for(dm: DatasetMapping) -> str:
    return f"Nhập từ DHIS2 / imported from DHIS2 (dataSet {dm.data_set})"


def reports_from_document(
    doc: Any,
    mapping: Mapping,
    registry: Registry,
    catalog: Catalog,
    tz: ZoneInfo,
    clock: Clock,
    submitted_by: str,
    reason: str = "",
) -> Imported:
    """The checked reports a document holds; SubmissionError with every problem otherwise."""
    if not isinstance(doc, dict) or not isinstance(doc.get("dataValues"), list):
        raise SubmissionError(
            [
                _reason(
                    "not_data_value_set",
                    "",
                    "Tệp không phải dataValueSets của DHIS2 (cần đối tượng có mảng dataValues).",
                    "The file is not a DHIS2 dataValueSets document (an object with a"
                    " dataValues array).",
                )
            ]
        )
    reader = _Reader(doc, mapping, registry)
    groups: dict[tuple[str, str, date], dict[str, int]] = {}
    deleted = 0
    for n, row in enumerate(doc["dataValues"]):
        if isinstance(row, dict) and row.get("deleted") is True:
            deleted += 1  # DHIS2's deleted values (includeDeleted=true): nothing to report
            continue
        read = reader.row(n, row)
        if read is None:
            continue
        dataset, unit_id, day, key, value = read
        values = groups.setdefault((dataset, unit_id, day), {})
        if values.get(key, value) != value:
            reader.problem(
                n,
                "conflicting_values",
                f"{key} của {unit_id} ngày {day} có hai giá trị khác nhau ({values[key]},"
                f" {value}).",
                f"{key} of {unit_id} on {day} has two different values ({values[key]}, {value}).",
            )
        values[key] = value
    if reader.problems:
        raise SubmissionError(reader.problems)
    if not groups:
        raise SubmissionError(
            [
                _reason(
                    "no_values",
                    "dataValues",
                    "Tệp không có giá trị nào để nhập.",
                    "The file has no values to import.",
                )
            ]
        )
    reports: list[ReportSubmitted] = []
    problems: list[Reason] = []
    for (dataset, unit_id, day), values in sorted(groups.items()):
        dm = mapping.get(dataset)
        assert dm is not None  # the reader only yields mapped datasets
        fields: dict[str, Any] = {
            "dataset": dataset,
            "unit_id": unit_id,
            "report_date": day.isoformat(),
            "values": dict(sorted(values.items())),
            "note": note_for(dm),
            "reason": reason,
        }
        fields["report_id"] = str(report_id(fields))
        where = f"{unit_id} {day} {dataset}: "
        try:
            report = build_report(fields, clock, submitted_by)
            preflight(report, registry, catalog, tz)
        except SubmissionError as exc:
            problems.extend(p.at(where) for p in exc.reasons)
            continue
        reports.append(report)
    if problems:
        raise SubmissionError(problems)
    return Imported(reports, sum(len(v) for v in groups.values()), deleted)


def _reason(code: str, where: str, vi: str, en: str) -> Reason:
    return Reason.of(code, where, vi, en)


class _Reader:
    """Reads rows against the mapping and registry, collecting every problem."""

    def __init__(self, doc: dict[str, Any], mapping: Mapping, registry: Registry) -> None:
        self.mapping = mapping
        self.registry = registry
        self.problems: list[Reason] = []
        self.period = doc.get("period")
        self.org_unit = doc.get("orgUnit")
        self.only: DatasetMapping | None = None
        data_set = doc.get("dataSet")
        if data_set:
            self.only = mapping.by_data_set(str(data_set))
            if self.only is None:
                known = ", ".join(sorted(d.data_set for d in mapping.datasets.values()))
                self.problems.append(
                    _reason(
                        "unknown_data_set",
                        "dataSet",
                        f"Data set {data_set} không có trong bảng ánh xạ (có: {known}).",
                        f"Data set {data_set} is not in the mapping (known: {known}).",
                    )
                )

    def problem(self, n: int, code: str, vi: str, en: str) -> None:
        self.problems.append(_reason(code, f"dataValues[{n}]", vi, en))

    def row(self, n: int, row: Any) -> tuple[str, str, date, str, int] | None:
        """(dataset, unit, day, key, value) of one data value, or None after a problem."""
        if not isinstance(row, dict):
            self.problem(n, "not_an_object", "Phải là một đối tượng JSON.", "Must be an object.")
            return None
        found = len(self.problems)
        element = str(row.get("dataElement") or "")
        org_unit = str(row.get("orgUnit") or self.org_unit or "")
        combo = str(row.get("categoryOptionCombo") or self.mapping.default_combo)
        day = self._day(n, row.get("period") or self.period)
        unit = self.registry.get(org_unit) if org_unit else None
        if unit is None:
            self.problem(
                n,
                "unknown_org_unit",
                f"Đơn vị (orgUnit) {org_unit or '—'} không có trong danh mục đơn vị.",
                f"Organisation unit {org_unit or '(none)'} is not in the unit registry.",
            )
        attribute = row.get("attributeOptionCombo")
        if attribute and attribute not in DEFAULT_ATTRIBUTE:
            self.problem(
                n,
                "attribute_option_combo",
                f"attributeOptionCombo {attribute} không được hỗ trợ (chỉ default).",
                f"attributeOptionCombo {attribute} is not supported (default only).",
            )
        dm = self._dataset(n, element, unit.datasets if unit else [])
        key = dm.key_of(element, combo) if dm else None
        if dm is not None and key is None:
            known = ", ".join(dm.combos_of(element))
            self.problem(
                n,
                "unknown_category_option_combo",
                f"categoryOptionCombo {combo} của {element} không có trong bảng ánh xạ"
                f" (có: {known}).",
                f"categoryOptionCombo {combo} of {element} is not in the mapping (known: {known}).",
            )
        value = self._count(n, row.get("value"))
        if len(self.problems) > found:
            return None
        assert dm is not None and key is not None and day is not None and value is not None
        return dm.dataset, org_unit, day, key, value

    def _dataset(self, n: int, element: str, unit_datasets: list[str]) -> DatasetMapping | None:
        if not element:
            self.problem(n, "no_data_element", "Thiếu dataElement.", "dataElement is missing.")
            return None
        candidates = self.mapping.with_element(element)
        if self.only is not None:
            candidates = [d for d in candidates if d is self.only]
        if not candidates:
            self.problem(
                n,
                "unknown_data_element",
                f"Phần tử dữ liệu (dataElement) {element} không có trong bảng ánh xạ"
                + (f" của {self.only.data_set}." if self.only else "."),
                f"Data element {element} is not in the mapping"
                + (f" of {self.only.data_set}." if self.only else "."),
            )
            return None
        if len(candidates) > 1:
            candidates = [d for d in candidates if d.dataset in unit_datasets] or candidates
        if len(candidates) > 1:
            names = ", ".join(d.data_set for d in candidates)
            self.problem(
                n,
                "ambiguous_data_element",
                f"{element} thuộc nhiều data set ({names}); ghi dataSet ở đầu tệp.",
                f"{element} belongs to several data sets ({names}); set the document's dataSet.",
            )
            return None
        return candidates[0]

    def _day(self, n: int, text: Any) -> date | None:
        text = str(text or "")
        try:
            if DAILY.match(text):
                return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
        self.problem(
            n,
            "invalid_period",
            f"Kỳ báo cáo {text or '—'} không phải kỳ ngày (yyyyMMdd, ví dụ 20210727).",
            f"Period {text or '(none)'} is not a daily period (yyyyMMdd, e.g. 20210727).",
        )
        return None

    def _count(self, n: int, raw: Any) -> int | None:
        value: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str | float):
            with contextlib.suppress(ValueError):
                value = int(raw.strip()) if isinstance(raw, str) else None
            if value is None:
                try:  # DHIS2 may write a number as "12.0"
                    number = float(raw)
                    value = int(number) if number.is_integer() else None
                except (ValueError, OverflowError):
                    value = None
        if value is None or value < 0:
            self.problem(
                n,
                "invalid_value",
                f"Giá trị {raw!r} không phải số đếm (số nguyên ≥ 0).",
                f"Value {raw!r} is not a count (a whole number ≥ 0).",
            )
            return None
        return value
