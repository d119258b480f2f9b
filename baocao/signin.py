"""The viewer's sign-in: a read token once, then a session cookie until it expires.

The cookie holds a random session id (its hash is stored with the token, so revoking
the token ends its sessions). It is HttpOnly (no script reads it), SameSite=Strict (no
other site's page sends it, which also stops cross-site form posts) and Secure when the
request came over TLS or the profile is production. Plain HTML forms, no script: the
pages work under the service's Content-Security-Policy.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from baocao.access import COOKIE, read_unit, session_expiry
from baocao.viewer import ICON_LINK
from contract.clock import Clock
from contract.registry import Registry
from contract.settings import Settings
from producers.http.auth import TokenStore

HOME = "/dashboards"


def add_signin_routes(
    app: FastAPI, settings: Settings, registry: Registry, tokens: TokenStore, clock: Clock
) -> None:
    """GET/POST /signin and POST /signout."""

    @app.get("/signin", include_in_schema=False)
    def signin_page(next: str = HOME) -> HTMLResponse:
        return HTMLResponse(_page(_safe_next(next)))

    @app.post("/signin", include_in_schema=False)
    async def signin(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[-1].strip()
        target = _safe_next((form.get("next") or [HOME])[-1])
        cred = tokens.check(token) if token else None
        if cred is None or read_unit(cred, registry) is None:
            message = (
                "Mã không hợp lệ, đã bị thu hồi, hoặc không có quyền xem (read) của một "
                "tỉnh hay huyện. / The token is invalid, revoked, or not a read token of a "
                "province or district."
            )
            return HTMLResponse(_page(target, message), 401)
        now = clock.now()
        session = tokens.open_session(cred.token_id, session_expiry(settings, now))
        reply = RedirectResponse(target, 303)
        reply.set_cookie(
            COOKIE,
            session,
            max_age=int(settings.session_hours * 3600),
            path="/",
            httponly=True,
            samesite="strict",
            secure=_secure(request, settings),
        )
        return reply

    @app.post("/signout", include_in_schema=False)
    def signout(request: Request) -> Response:
        session = request.cookies.get(COOKIE)
        if session:
            tokens.close_session(session)
        reply = RedirectResponse("/signin", 303)
        reply.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request, settings)
        )
        return reply


def _secure(request: Request, settings: Settings) -> bool:
    behind_tls = request.headers.get("x-forwarded-proto", "").lower() == "https"
    return request.url.scheme == "https" or behind_tls or settings.profile == "production"


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect to another one."""
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else HOME


def _page(target: str, message: str = "") -> str:
    error = f"<p class='error' role='alert'>{html.escape(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Đăng nhập / Sign in — baocao</title>{ICON_LINK}"
        "<link rel='stylesheet' href='/static/viewer.css'></head><body>"
        "<header><h1>Đăng nhập / Sign in</h1></header><main class='asof'>"
        "<p>Dán mã truy cập có quyền xem (read) của tỉnh hoặc huyện. / Paste a read token "
        "of a province or district.</p>"
        f"{error}<form method='post' action='/signin'>"
        f"<input type='hidden' name='next' value='{html.escape(target, quote=True)}'>"
        "<label>Mã truy cập / Token <input type='password' name='token' required "
        "autocomplete='off' size='60'></label> "
        "<button type='submit'>Đăng nhập / Sign in</button></form>"
        "<form method='post' action='/signout'>"
        "<button type='submit'>Đăng xuất / Sign out</button></form>"
        "</main></body></html>"
    )
