"""File routes: upload a CSV or .xlsx of reports, and download the Excel template to fill in.

``install_uploads`` adds them to the app (``producers/http/api.py``), with the app's own
token check. An upload is the raw body (``Content-Type: text/csv``, as before) or a
multipart form's ``file`` field (``curl -F file=@r.xlsx``); either way every row is
checked before any is sent (``producers/http/batch.py``), and a refusal names each row
and column in Vietnamese and English.

No ``from __future__ import annotations`` here: the routes are made inside
``install_uploads`` and FastAPI reads their parameters' annotations as objects (a string
naming the local ``authenticate`` would not resolve).
"""

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from contract.registry import Unit
from producers.http import errors
from producers.http.auth import covered_units, may_submit
from producers.http.batch import submit_csv
from producers.http.desk import Caller, Desk
from producers.http.handlers import PREFIX
from producers.http.limits import body_chunks, read_body
from producers.http.models import BatchReceipt, ErrorBody
from producers.http.openapi import ERRORS
from producers.spreadsheet import XLSX_MEDIA_TYPE, template

MAX_TEMPLATE_DAYS = 31
_BINARY = {"type": "string", "format": "binary"}
_REFUSED = (
    "the file or a row is refused and nothing is sent; every reason names its row and "
    "column ('Dòng 3, cột cases_new: …' / 'Line 3, column cases_new: …', field "
    "'line 3: values.cases_new') / tệp hoặc một dòng chưa hợp lệ, không gửi dòng nào"
)
_BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": ErrorBody, "description": "malformed multipart form / biểu mẫu sai"},
    422: {"model": ErrorBody, "description": _REFUSED},
    200: {"model": BatchReceipt, "description": "every row a re-sent report_id / gửi lại"},
    201: {"model": BatchReceipt, "description": "every row on the broker / đã nhận"},
    202: {"model": BatchReceipt, "description": "some rows queued: broker unreachable"},
}


def file_body(max_bytes: int, max_reports: int) -> dict[str, Any]:
    """An upload's request body: a multipart form whose ``file`` is an .xlsx or a CSV."""
    text = (
        f"The file: the Excel template filled in (.xlsx) or a CSV (`,`, `;` or tab "
        f"separated; UTF-8, or UTF-16 with a BOM); at most {max_reports} reports and "
        f"{max_bytes} bytes. / Tệp Excel mẫu đã điền hoặc CSV; tối đa {max_reports} báo "
        f"cáo, {max_bytes} byte."
    )
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {**_BINARY, "description": text}},
                    }
                }
            },
        }
    }


async def received_file(request: Request, limit: int) -> tuple[bytes, str]:
    """The uploaded file and its name: a multipart form's ``file``, else the whole body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        return await read_body(request, limit), ""
    parser = MultiPartParser(
        request.headers,
        body_chunks(request, limit),
        max_files=1,
        max_fields=10,
        max_part_size=limit,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise errors.malformed(
            f"Biểu mẫu multipart/form-data sai: {exc}", f"The multipart form is malformed: {exc}"
        ) from exc
    try:
        part = form.get("file")
        if isinstance(part, UploadFile):
            return await part.read(), part.filename or ""
        if isinstance(part, str):  # curl -F "file=<r.csv": the text as a plain field
            return part.encode("utf-8"), ""
        raise errors.malformed(
            "Biểu mẫu không có trường file (multipart/form-data, tên trường: file).",
            "The form has no 'file' field (multipart/form-data, field name: file).",
        )
    finally:
        await form.close()


def template_units(desk: Desk, caller: Caller, unit: Unit, dataset: str) -> list[Unit]:
    """The unit and the units under it that report ``dataset`` (a district's communes)."""
    return [
        u
        for u in covered_units(unit, desk.registry)
        if dataset in u.datasets and may_submit(caller.unit, u)
    ]


def template_days(last: date, days: int) -> list[date]:
    """``days`` days up to ``last``, oldest first (none before the calendar's first day)."""
    return [last - timedelta(days=n) for n in reversed(range(min(days, last.toordinal())))]


class XlsxResponse(Response):
    media_type = XLSX_MEDIA_TYPE


def _as_json(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Error answers of a route whose own media type is not JSON.

    FastAPI files a response's ``model`` under the route's media type (the workbook's
    here): the JSON error body is named by its schema instead.
    """
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {
        code: {"description": r["description"], "content": body} for code, r in responses.items()
    }


def install_uploads(app: FastAPI, authenticate: Callable[..., Awaitable[Caller]]) -> None:
    """Add the upload and template routes, checking tokens with ``authenticate``."""

    settings = app.state.desk.settings
    upload_body = file_body(settings.max_csv_bytes, settings.max_csv_reports)

    @app.post(
        f"{PREFIX}/reports:upload",
        status_code=201,
        response_model=BatchReceipt,
        responses=_BATCH_RESPONSES,
        openapi_extra=upload_body,
        operation_id="post_upload",
        summary="Tải lên tệp Excel (.xlsx) hoặc CSV / upload an .xlsx or CSV file "
        "(every row checked before any is sent)",
    )
    async def post_upload(
        request: Request, who: Annotated[Caller, Depends(authenticate)]
    ) -> JSONResponse:
        """Tải lên tệp / upload a file: multipart/form-data with a ``file`` field.

        The Excel template (``GET /templates/{dataset}.xlsx``) filled in, or a CSV: `,`,
        `;` or tab separated, UTF-8 (a BOM is fine) or UTF-16 with a BOM. A row without
        any value is skipped (a template row left empty).
        """
        desk: Desk = request.app.state.desk
        raw, name = await received_file(request, desk.settings.max_csv_bytes)
        status, receipts = await run_in_threadpool(submit_csv, desk, who, raw, name)
        batch = BatchReceipt(count=len(receipts), receipts=receipts)
        return JSONResponse(batch.model_dump(mode="json"), status_code=status)

    @app.get(
        f"{PREFIX}/templates/{{dataset}}.xlsx",
        response_class=XlsxResponse,
        responses={
            **_as_json(ERRORS),
            200: {
                "content": {XLSX_MEDIA_TYPE: {"schema": _BINARY}},
                "description": "the workbook / tệp Excel",
            },
            **_as_json(
                {
                    404: {
                        "description": "unknown dataset or unit, or no unit there reports "
                        "the dataset / không tìm thấy"
                    }
                }
            ),
        },
        operation_id="get_template",
        summary="Tệp Excel mẫu / the Excel template of a dataset for a unit",
    )
    def get_template(
        dataset: str,
        who: Annotated[Caller, Depends(authenticate)],
        request: Request,
        unit_id: Annotated[
            str | None, Query(description="default: the token's unit; its units are included")
        ] = None,
        day: Annotated[
            date | None, Query(alias="date", description="the last day (default: today)")
        ] = None,
        days: Annotated[
            int, Query(ge=1, le=MAX_TEMPLATE_DAYS, description="how many days, up to date")
        ] = 1,
    ) -> Response:
        """Tệp Excel mẫu / one row per unit and day, the unit's own units pre-filled.

        Headers in Vietnamese with English under them and the column's key in brackets;
        Excel refuses anything but a whole number ≥ 0 in a value cell.
        """
        desk: Desk = request.app.state.desk
        found = desk.catalog.get(dataset)
        if found is None:
            raise errors.not_found(
                f"Không có biểu mẫu {dataset}.", f"There is no dataset {dataset}."
            )
        unit = desk.authorize(who, unit_id or who.unit.unit_id)
        units = template_units(desk, who, unit, found.code)
        if not units:
            raise errors.not_found(
                f"{unit.name} và các đơn vị trực thuộc không báo cáo biểu mẫu {found.code}.",
                f"Neither unit {unit.unit_id} nor a unit under it reports {found.code}.",
            )
        last = day or desk.today()
        # A unit not active on a day gets no row for it (a day before every unit's
        # start gives the header alone: rows can be added under it).
        rows = [(u, d) for d in template_days(last, days) for u in units if u.is_active(d)]
        name = f"baocao-{found.code}-{unit.unit_id}-{last.isoformat()}.xlsx"
        return XlsxResponse(
            template(found, desk.catalog, rows),
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
