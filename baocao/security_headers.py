"""Security headers on every response of the warehouse service's app.

Every response gets ``X-Content-Type-Options: nosniff``; HTML pages also get a
Content-Security-Policy, ``X-Frame-Options`` and ``Referrer-Policy``. A header a route
set itself is kept (the API docs page sets its own policy: ``producers.http.handlers``).

The policy, directive by directive:

- ``default-src 'self'``: anything not named below (fonts, fetch/XHR, workers,
  manifests, media) only from this origin;
- ``script-src 'self'``: script files from this origin only, no inline script, no
  inline event handler (``onclick=``), no ``eval``: the form's script is
  ``/submit/form.js``, the viewer's ``/static/viewer.js`` and plotly's bundle
  ``/static/plotly.min.js``. Tried in Chromium with plotly.js 4.1.1 (plotly 7.1.0's
  bundle): the SVG traces (scatter, bar, heatmap, contour, pie, treemap, sankey: every
  chart the viewer draws) and the WebGL 3D ones (scatter3d, surface) draw with no
  violation. Refused would be: ``eval`` of regl, which compiles the draw calls of
  ``scattergl``, ``splom``, ``parcoords`` and ``scatterpolargl`` with ``Function``
  ('unsafe-eval'); the ``blob:`` workers of MapLibre for ``scattermap`` and
  ``densitymap`` (and ``choroplethmap``, the same engine: worker-src) and their remote
  base map; and the topojson of ``scattergeo`` and ``choropleth``, fetched from
  cdn.plot.ly (connect-src; not reachable offline anyway). The viewer uses none of them;
- ``style-src 'self' 'unsafe-inline'``: the pages carry ``<style>`` blocks, the viewer
  sizes panels with ``style=`` attributes and colours bands through them, and plotly
  inserts ``<style>`` elements (Chromium refuses them without 'unsafe-inline'). Injected
  CSS cannot run script; it is accepted;
- ``img-src 'self' data:``: a brief's charts are ``data:`` PNGs, Swagger UI's icons are
  ``data:`` SVGs in its stylesheet;
- ``object-src 'none'``: no plugins;
- ``base-uri 'none'``: an injected ``<base>`` cannot move relative script URLs elsewhere;
- ``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY`` for older browsers): no
  page of ours in someone else's frame, so no clickjacking of the form;
- ``form-action 'self'``: forms (the viewer's period form) submit to this origin only.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.web_policy import content_security_policy

CSP = content_security_policy()

ALWAYS: tuple[tuple[bytes, bytes], ...] = ((b"x-content-type-options", b"nosniff"),)
HTML_ONLY: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    # no-referrer: no page needs the Referer (the API authenticates by bearer token, not
    # by origin), and the viewer's and briefs' URLs carry provinces and dates that a
    # followed link need not learn; strict-origin-when-cross-origin would still send
    # the origin off-site.
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Pure ASGI middleware: add the headers to each response's start message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers it lacks (a route's own are kept)."""
    have = {name.lower() for name, _ in headers}
    ctype = next((v for n, v in headers if n.lower() == b"content-type"), b"")
    wanted = ALWAYS + (HTML_ONLY if ctype.lower().startswith(b"text/html") else ())
    return headers + [(name, value) for name, value in wanted if name not in have]


def install(app: FastAPI) -> None:
    """Wrap ``app``'s whole middleware stack, outermost.

    Not ``app.add_middleware``: Starlette's ServerErrorMiddleware (which sends the
    crash handler's 500) and FastAPI's body-size limit sit outside every user
    middleware, so their answers would go out without the headers.
    """
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
