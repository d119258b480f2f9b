"""The FastAPI app: routes, token authentication, size limits and bilingual errors.

Routes are thin: they read the request, authenticate, and hand over to ``Desk``.
Blocking work (SQLite, the broker) runs in the thread pool so one slow broker call
never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from contract.clock import Clock
from contract.datasets import Catalog, Dataset
from contract.registry import Registry
from contract.settings import Settings
from producers.http import errors, views
from producers.http.approvals import install_approvals
from producers.http.auth import TokenStore
from producers.http.batch import submit_csv
from producers.http.callers import take_turn, token_holder
from producers.http.desk import Caller, Desk, Pending
from producers.http.handlers import PREFIX, install_docs, install_error_handlers
from producers.http.limits import RateLimiter, read_body
from producers.http.models import (
    ApprovalBook,
    ApprovalPublisher,
    BatchReceipt,
    HistoryOut,
    MeOut,
    Publisher,
    ReceiptOut,
    ReportLookup,
    UnitDatasetsOut,
)
from producers.http.openapi import ERRORS, RECEIPT_LINK, csv_body, report_body
from producers.http.outbox import Outbox
from producers.http.redeliver import Redelivery
from producers.http.sms_routes import install_sms
from producers.http.uploads import install_uploads, received_file

log = logging.getLogger(__name__)
bearer = HTTPBearer(auto_error=False, description="a unit token from `baocao tokens create`")


async def authenticate(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    """Turn the bearer token into a caller; 401 when it is missing, unknown or revoked.

    Async on purpose: a token check is one indexed SQLite read, cheaper in the event
    loop than the thread hop FastAPI gives a plain function (a rush's every request).
    """
    caller = token_holder(request, creds)
    if not caller.credential.may("submit"):
        raise errors.forbidden(
            "Mã này chỉ dùng để xem số liệu (vai trò read), không gửi báo cáo.",
            "This token may only read (role read); it cannot submit reports.",
        )
    take_turn(request, caller)
    return caller


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
    settle: Callable[[], bool] = lambda: True,
    approvals: ApprovalBook | None = None,
    approval_publisher: ApprovalPublisher | None = None,
) -> FastAPI:
    """Build the submission API and web form; its outbox threads run while the app does.

    ``settle``: wait until the stream and the sink have handled what the broker holds
    (the composition root asks the broker); the start's re-send of undecided reports
    waits for it, so a report decided just before a restart is not sent twice.
    ``approvals``, ``approval_publisher``: the reviews' reads and topic (approval routes).
    """
    window = settings.correction_window_days
    desk = Desk(settings, registry, catalog, clock, publisher, lookup, outbox, window, approvals)
    redelivery = Redelivery(
        outbox, desk.commits, desk.courier, lookup.decisions, settle, on_tick=desk.keep_known
    )
    limit = settings.max_payload_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        desk.commits.start()
        await run_in_threadpool(desk.keep_known)
        redelivery.start()  # then the courier delivers what a previous run left queued
        yield
        redelivery.stop()
        desk.courier.stop()
        desk.commits.stop()

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
    install_docs(app)
    app.state.desk = desk
    app.state.redelivery = redelivery
    app.state.tokens = tokens
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    install_error_handlers(app)
    install_uploads(app, authenticate)  # POST reports:upload, GET templates/{dataset}.xlsx
    install_sms(app, settings, tokens.path)  # POST /api/v1/sms: reports by text message
    install_approvals(app, bearer, desk, approvals, approval_publisher)  # GET, POST approvals

    @app.post(
        f"{PREFIX}/reports",
        status_code=201,
        response_model=ReceiptOut,
        responses={
            **ERRORS,
            201: {"description": "on the broker / đã nhận", "links": RECEIPT_LINK},
            200: {
                "model": ReceiptOut,
                "description": "a re-sent report_id / gửi lại",
                "links": RECEIPT_LINK,
            },
            202: {
                "model": ReceiptOut,
                "description": "queued: broker unreachable / đang chờ gửi",
                "links": RECEIPT_LINK,
            },
        },
        openapi_extra=report_body(catalog, limit),
        operation_id="post_report",
        summary="Gửi một báo cáo / submit a report",
    )
    async def post_report(request: Request, who: Auth) -> Response:
        raw = await read_body(request, limit)
        fields = _json_object(raw)
        # Checked in the event loop from kept state (no I/O but SQLite reads), then the
        # committer is awaited without holding a thread; a day older than the kept ones
        # asks the warehouse, so that one runs in a thread.
        step = desk.prepare(who, fields, cold=False)
        if step is None:
            status, receipt = await run_in_threadpool(desk.submit, who, fields)
        elif isinstance(step, Pending):
            (outcome,) = await asyncio.wrap_future(desk.commits.enqueue([step.entry]))
            status, receipt = desk.finish(step, outcome)
        else:
            status, receipt = step
        return Response(receipt.model_dump_json(), status, media_type="application/json")

    @app.post(
        f"{PREFIX}/reports:csv",
        status_code=201,
        response_model=BatchReceipt,
        responses=ERRORS,
        openapi_extra=csv_body(settings.max_csv_bytes, settings.max_csv_reports),
        operation_id="post_csv",
        summary="Gửi tệp CSV / submit a CSV batch (every row checked before any is sent)",
    )
    async def post_csv(request: Request, who: Auth) -> JSONResponse:
        raw, name = await received_file(request, settings.max_csv_bytes)  # or a multipart file
        status, receipts = await run_in_threadpool(submit_csv, desk, who, raw, name)
        batch = BatchReceipt(count=len(receipts), receipts=receipts)
        return JSONResponse(batch.model_dump(mode="json"), status_code=status)

    @app.get(
        f"{PREFIX}/reports/{{report_id}}",
        response_model=ReceiptOut,
        responses=ERRORS,
        operation_id="get_report",
    )
    def get_report(report_id: str, who: Auth) -> ReceiptOut:
        """Biên nhận và trạng thái / receipt and status of a report."""
        stored = desk.status(report_id)
        if stored is None:
            raise errors.not_found(
                f"Không có báo cáo {report_id} gửi qua cổng này.",
                f"No report {report_id} was submitted through this service.",
            )
        desk.authorize(who, stored.report.unit_id)
        return desk.receipt_of(stored)

    @app.get(
        f"{PREFIX}/units/{{unit_id}}/history",
        response_model=HistoryOut,
        responses=ERRORS,
        operation_id="get_history",
    )
    def get_history(
        unit_id: str, who: Auth, days: Annotated[int, Query(ge=1, le=92)] = 14
    ) -> HistoryOut:
        """Lịch sử báo cáo / every revision (who, when, old and new values, reason)."""
        return views.history(desk, desk.authorize(who, unit_id), days)

    @app.get(
        f"{PREFIX}/units/{{unit_id}}/datasets",
        response_model=UnitDatasetsOut,
        responses=ERRORS,
        operation_id="get_datasets",
    )
    def get_datasets(unit_id: str, who: Auth) -> UnitDatasetsOut:
        """Biểu mẫu phải báo cáo / datasets and metrics the unit reports, with labels."""
        return views.unit_datasets(desk, desk.authorize(who, unit_id))

    @app.get(f"{PREFIX}/me", response_model=MeOut, responses=ERRORS, operation_id="get_me")
    def get_me(who: Auth) -> MeOut:
        """Tài khoản hiện tại / the token's holder and the units it may submit for."""
        return views.me(desk, who)

    form = resources.files("producers.http").joinpath("static", "form.html").read_text("utf-8")

    @app.get("/submit", response_class=HTMLResponse, include_in_schema=False)
    def get_form() -> HTMLResponse:
        return HTMLResponse(form)

    # The form's script is a file, not inline, so the page's CSP can say script-src 'self'.
    script = resources.files("producers.http").joinpath("static", "form.js").read_bytes()

    @app.get("/submit/form.js", include_in_schema=False)
    def get_form_script() -> Response:
        return Response(script, media_type="text/javascript; charset=utf-8")

    # The approval page carries its datasets and the service's today as JSON data (not a
    # script: the CSP runs none inline); its script is a file like the form's.
    static = resources.files("producers.http").joinpath("static")
    approve = static.joinpath("approve.html").read_text("utf-8")
    approve_js = static.joinpath("approve.js").read_bytes()
    approve_boot = _approve_boot(catalog)

    @app.get("/approve", response_class=HTMLResponse, include_in_schema=False)
    def get_approve_page() -> HTMLResponse:
        boot = json.dumps({**approve_boot, "today": desk.today().isoformat()}, ensure_ascii=False)
        return HTMLResponse(approve.replace("__BOOT__", boot.replace("</", "<\\/")))

    @app.get("/approve/approve.js", include_in_schema=False)
    def get_approve_script() -> Response:
        return Response(approve_js, media_type="text/javascript; charset=utf-8")

    return app


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except UnicodeDecodeError as exc:  # json.loads guessed UTF-16/32 or met a non-UTF-8 byte
        raise errors.not_utf8(exc.start) from exc
    except json.JSONDecodeError as exc:
        raise errors.malformed(
            f"Nội dung không phải JSON hợp lệ: {exc}", f"The body is not valid JSON: {exc}"
        ) from exc
    if not isinstance(obj, dict):
        raise errors.malformed(
            "Báo cáo phải là một đối tượng JSON.", "A report must be a JSON object."
        )
    return obj


def _approve_boot(catalog: Catalog) -> dict[str, Any]:
    """The approval page's datasets, each value key named (a metric, or metric.option)."""

    def labels(dataset: Dataset) -> dict[str, list[str]]:
        out = {}
        for m in dataset.metrics:
            out[m.code] = [m.name_vi, m.name_en]
            category = catalog.categories.get(m.category) if m.category else None
            for o in category.options if category else ():
                out[f"{m.code}.{o.code}"] = [
                    f"{m.name_vi} · {o.name_vi}",
                    f"{m.name_en} · {o.name_en}",
                ]
        return out

    datasets = [
        {"code": d.code, "name_vi": d.name_vi, "name_en": d.name_en, "labels": labels(d)}
        for d in catalog.datasets
    ]
    return {"datasets": datasets}
