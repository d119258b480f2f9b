"""The API's error answers and its offline docs page, installed on the app by ``create_api``."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract.reasons import Reason
from contract.validation import in_words
from contract.web_policy import content_security_policy
from producers.http import errors

log = logging.getLogger(__name__)
PREFIX = "/api/v1"


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the API's bilingual shape (``ErrorBody``), never a bare 500."""

    @app.exception_handler(errors.ApiError)
    async def api_error(request: Request, exc: errors.ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        return JSONResponse(exc.body.model_dump(mode="json"), exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_params(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            vi, en = in_words(e)
            found.append(Reason.of("invalid_parameter", where, f"{where}: {vi}", f"{where}: {en}"))
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
        # Starlette's 405 names the allowed methods in Allow (RFC 9110 requires it).
        return JSONResponse(body.model_dump(mode="json"), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        body = errors.ErrorBody(
            error="internal_error",
            message_vi="Lỗi hệ thống; hãy gửi lại với cùng report_id (không bị tính hai lần).",
            message_en="Internal error; re-send with the same report_id (never counted twice).",
        )
        return JSONResponse(body.model_dump(mode="json"), 500)


# The vendored Swagger UI (static/swagger_ui/README.md): 5.x shows OpenAPI 3.1.
SWAGGER_UI_VERSION = "5.36.0"


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI from the files baocao ships: no internet needed."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = f"{PREFIX}/docs-assets"
    files = resources.files("producers.http").joinpath("static", "swagger_ui")
    app.mount(assets, StaticFiles(directory=str(files)), name="docs")

    page = get_swagger_ui_html(
        openapi_url=f"{PREFIX}/openapi.json",
        title="baocao API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon-32x32.png",
        # no badge from validator.swagger.io: it would send the spec's URL off-site
        swagger_ui_parameters={"validatorUrl": None},
    ).body
    policy = docs_policy(bytes(page).decode("utf-8"))

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})


def docs_policy(page: str) -> str:
    """The docs page's Content-Security-Policy: the strict one, plus its inline script.

    Swagger UI starts from one inline ``<script>`` (FastAPI's ``get_swagger_ui_html``);
    its SHA-256 lets exactly that text run, and no other inline script. The service's
    middleware keeps a header a route set.
    """
    inline = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    return content_security_policy(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline
    )
