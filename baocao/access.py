"""Who may read what: the warehouse service's public surface and its internal one.

One port serves both, so every request is sorted by its path before any route runs:

- **public** (a reverse proxy publishes these to every district and commune): the
  submission form and the approval page with their scripts, the API under ``/api/v1/``
  (which checks its own ``submit`` and ``approve`` tokens), ``/healthz``, ``/readyz``,
  the viewer's sign-in and sign-out and its static files (the chart library, script,
  style and icon: no data) and /favicon.ico;
- **read** (leadership and analysts): the dashboards, the daily
  briefs, the ledger and alert histories, each limited to the reader's unit and the
  units below it (DHIS2's model: a user sees the organisation units assigned to them
  and their descendants);
- **operator**: status, compliance, levels and signals, the brief maker, the home page;
- **metrics**: ``/metrics``, for the operator's scraper.

Anything not public needs a credential, except from this host itself: a request from
a loopback address that no proxy forwarded (no ``Forwarded``/``X-Forwarded-For``/
``X-Real-IP`` header) is the operator's own (`baocao status`, the embedded stack's
browser). Credentials: the service token ``BAOCAO_INTERNAL_TOKEN`` (baocao's own
services on other hosts: everything), ``BAOCAO_METRICS_TOKEN`` (metrics only), a unit
token with the ``read`` role as a bearer token or through the viewer's session cookie
(read paths of its units only). ``BAOCAO_READ_OPEN`` serves everything to anyone, for
a demo on a trusted network; the production profile refuses it (contract/settings.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from contract.clock import Clock
from contract.registry import Registry, Unit, UnitKind
from contract.settings import Settings
from producers.http.auth import Credential, TokenStore

Surface = Literal["public", "read", "operator", "metrics"]

#: The session cookie of the viewer (its value is a random id; only its hash is stored).
COOKIE = "baocao_session"

#: The viewer's static files hold no data (the chart library, its script, style and icon).
PUBLIC_PATHS = (
    "/submit",
    "/approve",
    "/healthz",
    "/readyz",
    "/signin",
    "/signout",
    "/static/",
    "/favicon.ico",
)
READ_PREFIXES = (
    "/dashboards",
    "/briefs",
    "/api/ledger-history",
    "/api/alert-history",
)
#: Starlette's TestClient names its client "testclient"; no socket peer is named so.
LOOPBACK = ("127.0.0.1", "::1", "localhost", "testclient")
FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")


def surface(path: str) -> Surface:
    """Which surface a path belongs to (anything unknown is the operator's)."""
    if path.startswith("/api/v1/") or path == "/api/v1" or _under(path, PUBLIC_PATHS):
        return "public"
    if path == "/metrics":
        return "metrics"
    if _under(path, READ_PREFIXES):
        return "read"
    return "operator"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in prefixes)


@dataclass(frozen=True)
class Scope:
    """The units a read token may see: its own and every unit below it."""

    unit: Unit
    units: frozenset[str]

    @property
    def province(self) -> str:
        return self.unit.province_id

    @property
    def district(self) -> str | None:
        """The district a district reader is held to (None for a province reader)."""
        return self.unit.unit_id if self.unit.kind == UnitKind.DISTRICT else None

    @classmethod
    def of(cls, unit: Unit, registry: Registry) -> Scope:
        if unit.kind == UnitKind.PROVINCE:
            below = [u.unit_id for u in registry.filter(province=unit.province_id)]
        else:
            below = [u.unit_id for u in registry if u.district_id == unit.unit_id]
        return cls(unit, frozenset([unit.unit_id, *below]))


@dataclass(frozen=True)
class Reader:
    """Who a request reads as: ``scope`` None reads everything (the operator, a service)."""

    who: str
    scope: Scope | None = None


READ_UNITS = (UnitKind.PROVINCE, UnitKind.DISTRICT)


def readable_unit(unit: Unit) -> bool:
    """Read tokens are for provinces and districts: the dashboards show districts."""
    return unit.kind in READ_UNITS


def read_unit(cred: Credential | None, registry: Registry) -> Unit | None:
    """The unit a valid read token reads for, or None (no token, no read role, a unit
    that is unknown or not a province or district)."""
    unit = registry.get(cred.unit_id) if cred is not None else None
    if cred is None or unit is None or not cred.may("read") or not readable_unit(unit):
        return None
    return unit


def reader_of(request: Request) -> Reader:
    """The reader ``install``'s middleware found for this request."""
    reader: Reader = request.state.reader
    return reader


def install(
    app: FastAPI, settings: Settings, registry: Registry, tokens: TokenStore, clock: Clock
) -> None:
    """Refuse every request that its surface does not allow; name the reader of the rest."""
    internal = settings.internal_token.get_secret_value()
    metrics = settings.metrics_token.get_secret_value()

    scopes: dict[str, Scope] = {}  # by unit: the registry does not change while serving

    def from_token(cred: Credential | None) -> Reader | None:
        unit = read_unit(cred, registry)
        if cred is None or unit is None:
            return None
        scope = scopes.get(unit.unit_id) or scopes.setdefault(
            unit.unit_id, Scope.of(unit, registry)
        )
        return Reader(f"token {cred.token_id}", scope)

    @app.middleware("http")
    async def check_access(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        kind = surface(request.url.path)
        if kind == "public":  # no route there reads by scope (the static files hold no data)
            request.state.reader = Reader("public")
            return await call_next(request)
        bearer = _bearer(request)
        reader: Reader | None = None
        if bearer is not None:
            if internal and hmac.compare_digest(bearer, internal):
                reader = Reader("service")
            elif kind == "metrics" and metrics and hmac.compare_digest(bearer, metrics):
                reader = Reader("metrics")
            else:
                reader = from_token(tokens.check(bearer))
                if reader is None:
                    return _refuse(request, 401, *BAD_TOKEN)
        elif (session := request.cookies.get(COOKIE)) is not None:
            reader = from_token(tokens.session(session, clock.now()))
        if reader is None and (_local(request) or settings.read_open):
            reader = Reader("local")
        if reader is None:
            return _refuse(request, 401, *SIGN_IN)
        if reader.scope is not None and kind != "read":
            return _refuse(request, 403, *OPERATOR_ONLY)
        request.state.reader = reader
        return await call_next(request)


BAD_TOKEN = (
    "Mã truy cập không hợp lệ, đã bị thu hồi hoặc không có quyền xem (read).",
    "The token is invalid, revoked or lacks the read role.",
)
SIGN_IN = (
    "Cần đăng nhập bằng mã truy cập có quyền xem (read).",
    "Sign in with a token that has the read role.",
)
OPERATOR_ONLY = (
    "Trang này chỉ dành cho người vận hành.",
    "This page is for operators only.",
)
OUT_OF_SCOPE = (
    "Mã này không được xem số liệu của đơn vị đó.",
    "This token may not read that unit's data.",
)


def refused(status: int, vi: str, en: str) -> JSONResponse:
    error = {401: "unauthorized", 403: "forbidden"}.get(status, "refused")
    return JSONResponse({"error": error, "message_vi": vi, "message_en": en}, status)


def _refuse(request: Request, status: int, vi: str, en: str) -> Response:
    """JSON for programs; a browser asking for a page without credentials signs in."""
    wants_page = "text/html" in request.headers.get("accept", "")
    if status == 401 and wants_page and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", 303)
    return refused(status, vi, en)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _local(request: Request) -> bool:
    """From this host, not through a proxy on it (a proxy would connect from loopback)."""
    host = request.client.host if request.client else ""
    return host in LOOPBACK and not any(h in request.headers for h in FORWARDED)


def session_expiry(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(hours=settings.session_hours)
