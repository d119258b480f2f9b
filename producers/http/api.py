"""The FastAPI app: routes, token authentication, size limits and bilingual errors.

Routes are thin: they read the request, authenticate, and hand over to ``Desk``.
Blocking work (SQLite, the broker) runs in the thread pool so one slow broker call
never stalls the event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract.clock import Clock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from producers.http import errors, views
from producers.http.auth import TokenStore
from producers.http.batch import submit_csv
from producers.http.desk import Caller, Desk
from producers.http.limits import RateLimiter
from producers.http.models import (
    BatchReceipt,
    ErrorBody,
    HistoryOut,
    MeOut,
    Publisher,
    ReceiptOut,
    ReportIn,
    ReportLookup,
    UnitDatasetsOut,
)
from producers.http.outbox import Outbox

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "malformed request / yêu cầu sai cú pháp",
        401: "no or invalid token / thiếu hoặc sai mã truy cập",
        403: "not allowed for this unit / không được phép",
        404: "unknown report or unit / không tìm thấy",
        409: "report_id re-used with other content / mã báo cáo bị dùng lại",
        413: "body or CSV too large / quá lớn",
        422: "invalid report, with every reason / báo cáo chưa hợp lệ",
        429: "too many requests for this token / quá nhiều yêu cầu",
    }.items()
}
bearer = HTTPBearer(auto_error=False, description="a unit token from `baocao tokens create`")


def authenticate(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    """Turn the bearer token into a caller; 401 when it is missing, unknown or revoked."""
    if creds is None:
        raise errors.unauthorized(
            "Cần mã truy cập (Authorization: Bearer …).",
            "A token is required (Authorization: Bearer …).",
        )
    tokens: TokenStore = request.app.state.tokens
    desk: Desk = request.app.state.desk
    cred = tokens.check(creds.credentials)
    unit = desk.registry.get(cred.unit_id) if cred else None
    if cred is None or unit is None:
        raise errors.unauthorized(
            "Mã truy cập không hợp lệ hoặc đã bị thu hồi.",
            "The token is invalid or has been revoked.",
        )
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(cred.token_id)
    if wait is not None:
        raise errors.too_many_requests(wait, int(limiter.capacity))
    return Caller(cred, unit)


Auth = Annotated[Caller, Depends(authenticate)]


def create_api(
    settings: Settings,
    registry: Registry,
    catalog: Catalog,
    clock: Clock,
    publisher: Publisher,
    lookup: ReportLookup,
    tokens: TokenStore,
    outbox: Outbox,
) -> FastAPI:
    """Build the submission API and web form; the outbox courier runs while the app does."""
    window = settings.correction_window_days
    desk = Desk(settings, registry, catalog, clock, publisher, lookup, outbox, window)
    limit = settings.max_payload_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        desk.courier.start()
        desk.courier.kick()  # deliver what a previous run left queued
        yield
        desk.courier.stop()

    app = FastAPI(
        title="baocao — API báo cáo / reporting API",
        version="1",
        description="Gửi báo cáo dịch hằng ngày / submit daily epidemic reports. "
        "Every error answers with message_vi, message_en and a list of reasons.",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours is served locally
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    _install_docs(app)
    app.state.desk = desk
    app.state.tokens = tokens
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    _install_error_handlers(app)

    async def body(request: Request, limit: int = limit) -> bytes:
        # Refuse by the declared length before reading, and count while reading in
        # case the length was not declared or lies.
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise errors.too_large(int(declared), limit)
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                raise errors.too_large(len(raw), limit)
        return bytes(raw)

    report_body = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ReportIn.model_json_schema()}},
        }
    }

    @app.post(
        f"{PREFIX}/reports",
        status_code=201,
        response_model=ReceiptOut,
        responses={
            **ERRORS,
            200: {"model": ReceiptOut, "description": "a re-sent report_id"},
            202: {"model": ReceiptOut, "description": "queued: broker unreachable"},
        },
        openapi_extra=report_body,
        summary="Gửi một báo cáo / submit a report",
    )
    async def post_report(request: Request, who: Auth) -> JSONResponse:
        raw = await body(request)
        fields = _json_object(raw)
        status, receipt = await run_in_threadpool(desk.submit, who, fields)
        return JSONResponse(receipt.model_dump(mode="json"), status_code=status)

    @app.post(
        f"{PREFIX}/reports:csv",
        status_code=201,
        response_model=BatchReceipt,
        responses=ERRORS,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
        summary="Gửi tệp CSV / submit a CSV batch (every row checked before any is sent)",
    )
    async def post_csv(request: Request, who: Auth) -> JSONResponse:
        raw = await body(request, settings.max_csv_bytes)
        status, receipts = await run_in_threadpool(submit_csv, desk, who, raw)
        batch = BatchReceipt(count=len(receipts), receipts=receipts)
        return JSONResponse(batch.model_dump(mode="json"), status_code=status)

    @app.get(f"{PREFIX}/reports/{{report_id}}", response_model=ReceiptOut, responses=ERRORS)
    def get_report(report_id: str, who: Auth) -> ReceiptOut:
        """Biên nhận và trạng thái / receipt and status of a report."""
        stored = desk.outbox.get(report_id)
        if stored is None:
            raise errors.not_found(
                f"Không có báo cáo {report_id} gửi qua cổng này.",
                f"No report {report_id} was submitted through this service.",
            )
        desk.authorize(who, stored.report.unit_id)
        return desk.receipt_of(stored)

    @app.get(f"{PREFIX}/units/{{unit_id}}/history", response_model=HistoryOut, responses=ERRORS)
    def get_history(
        unit_id: str, who: Auth, days: Annotated[int, Query(ge=1, le=92)] = 14
    ) -> HistoryOut:
        """Lịch sử báo cáo / every revision (who, when, old and new values, reason)."""
        return views.history(desk, desk.authorize(who, unit_id), days)

    @app.get(
        f"{PREFIX}/units/{{unit_id}}/datasets", response_model=UnitDatasetsOut, responses=ERRORS
    )
    def get_datasets(unit_id: str, who: Auth) -> UnitDatasetsOut:
        """Biểu mẫu phải báo cáo / datasets and metrics the unit reports, with labels."""
        return views.unit_datasets(desk, desk.authorize(who, unit_id))

    @app.get(f"{PREFIX}/me", response_model=MeOut, responses=ERRORS)
    def get_me(who: Auth) -> MeOut:
        """Tài khoản hiện tại / the token's holder and the units it may submit for."""
        return views.me(desk, who)

    form = resources.files("producers.http").joinpath("static", "form.html").read_text("utf-8")

    @app.get("/submit", response_class=HTMLResponse, include_in_schema=False)
    def get_form() -> HTMLResponse:
        return HTMLResponse(form)

    return app


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.malformed(
            f"Nội dung không phải JSON hợp lệ: {exc}", f"The body is not valid JSON: {exc}"
        ) from exc
    if not isinstance(obj, dict):
        raise errors.malformed(
            "Báo cáo phải là một đối tượng JSON.", "A report must be a JSON object."
        )
    return obj


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.ApiError)
    async def api_error(request: Request, exc: errors.ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        return JSONResponse(exc.body.model_dump(mode="json"), exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_params(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = [
            errors.Reason(
                code="invalid_parameter",
                field=".".join(str(p) for p in e["loc"]),
                message_vi=f"{'.'.join(str(p) for p in e['loc'])}: giá trị không hợp lệ",
                message_en=f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}",
            )
            for e in exc.errors()
        ]
        body = errors.ErrorBody(
            error="invalid_parameter",
            message_vi="Tham số không hợp lệ.",
            message_en="Invalid parameter.",
            reasons=found,
        )
        return JSONResponse(body.model_dump(mode="json"), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        vi = {404: "Không tìm thấy.", 405: "Phương thức không được hỗ trợ."}
        body = errors.ErrorBody(
            error=f"http_{exc.status_code}",
            message_vi=vi.get(exc.status_code, "Yêu cầu không hợp lệ."),
            message_en=str(exc.detail),
        )
        return JSONResponse(body.model_dump(mode="json"), exc.status_code)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        body = errors.ErrorBody(
            error="internal_error",
            message_vi="Lỗi hệ thống; hãy gửi lại với cùng report_id (không bị tính hai lần).",
            message_en="Internal error; re-send with the same report_id (never counted twice).",
        )
        return JSONResponse(body.model_dump(mode="json"), 500)


def _install_docs(app: FastAPI) -> None:
    """Serve Swagger UI from the installed swagger-ui-bundle package: no internet needed."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = f"{PREFIX}/docs-assets"
    app.mount(assets, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs")

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="baocao API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )
