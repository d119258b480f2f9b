"""The Content-Security-Policy of every HTML page the web service sends.

One definition for the middleware that sets it on every page
(``baocao/security_headers.py``) and for the API docs page, which adds the hash of its
one inline script (``producers/http/handlers.py``). Why each directive:
``baocao/security_headers.py``.
"""

from __future__ import annotations

from collections.abc import Iterable


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The policy; ``script_hashes`` (``'sha256-…'``) let exactly those inline scripts run."""
    scripts = " ".join(("'self'", *script_hashes))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        )
    )
