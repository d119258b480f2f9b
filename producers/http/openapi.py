"""What the OpenAPI document says beyond the routes' models: bodies, errors and links.

The document is checked against the running service by schemathesis
(tests/producers/http/test_openapi.py), so a route that answers something its
document does not say fails the suite.
"""

from __future__ import annotations

import re
from typing import Any

from contract.datasets import Catalog
from producers.http.models import ErrorBody, ReportIn

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "malformed request / yêu cầu sai cú pháp",
        401: "no or invalid token / thiếu hoặc sai mã truy cập",
        403: "not allowed for this unit / không được phép",
        404: "unknown report or unit / không tìm thấy",
        409: "report_id re-used with other content / mã báo cáo bị dùng lại",
        413: "body or CSV too large / quá lớn",
        422: "refused, with every reason / bị từ chối, kèm mọi lý do",
        429: "too many requests for this token / quá nhiều yêu cầu",
    }.items()
}

# A receipt's report_id leads to its status: clients (and schemathesis's stateful
# phase) follow it from any answer that carries one.
RECEIPT_LINK = {
    "GetReceipt": {
        "operationId": "get_report",
        "parameters": {"report_id": "$response.body#/report_id"},
        "description": "the receipt's status / trạng thái của biên nhận",
    }
}


def report_body(catalog: Catalog, max_bytes: int) -> dict[str, Any]:
    """POST /reports's request body: the contract's field types, this catalog's codes."""
    schema = ReportIn.model_json_schema()
    props = schema["properties"]
    props["dataset"]["enum"] = sorted(ds.code for ds in catalog.datasets)
    # Each key of this catalog, with the contract's count schema, rather than the key
    # pattern: generated clients and testers then offer (and send) real metric keys.
    values = props["values"]
    ((pattern, count),) = values.pop("patternProperties").items()
    keys = sorted({key for ds in catalog.datasets for key in catalog.value_keys(ds)})
    assert all(re.fullmatch(pattern, key) for key in keys), "a catalog key the contract refuses"
    values["properties"] = {key: count for key in keys}
    schema["description"] += f"\n\nAt most {max_bytes} bytes / tối đa {max_bytes} byte."
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def csv_body(max_bytes: int, max_reports: int) -> dict[str, Any]:
    """POST /reports:csv's request body: a CSV file, every row checked before any is sent."""
    text = (
        "A header row (dataset, unit_id, report_date, then metric columns), one report "
        f"per row; at most {max_reports} rows and {max_bytes} bytes. / Dòng tiêu đề rồi "
        f"mỗi dòng một báo cáo; tối đa {max_reports} dòng, {max_bytes} byte."
    )
    return {
        "requestBody": {
            "required": True,
            "description": text,
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "minLength": 1, "maxLength": max_bytes},
                    "example": "dataset,unit_id,report_date,cases_new\n"
                    "district-daily,173,2021-07-27,3\n",
                },
                # or as a form's file: curl -F file=@reports.csv (producers/http/uploads.py)
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    }


# Reason codes that mean "the body does not fit its schema". A body the document calls
# valid must never get one (tests/support/openapi_checks.py holds the service to it).
SHAPE_CODES = frozenset(
    {
        "invalid_field",
        "invalid_parameter",
        "invalid_report",
        "malformed",
        "not_json",
        "not_json_object",
        "submitted_at_not_allowed",
    }
)
