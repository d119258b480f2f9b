"""Who is calling: the bearer token's holder, and its share of the rate limit.

Every route that takes a unit token starts here (the submission routes'
``api.authenticate``, the approval routes' ``reviewer``); each then checks the role it
needs, so a missing, unknown or revoked token is answered the same way everywhere.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials

from producers.http import errors
from producers.http.auth import TokenStore
from producers.http.desk import Caller, Desk
from producers.http.limits import RateLimiter


def token_holder(request: Request, creds: HTTPAuthorizationCredentials | None) -> Caller:
    """The token's holder and its unit; 401 when the token is missing, unknown or revoked."""
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
    return Caller(cred, unit)


def take_turn(request: Request, caller: Caller) -> None:
    """429 when the token has used up its share of requests (one limit for every route)."""
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(caller.credential.token_id)
    if wait is not None:
        raise errors.too_many_requests(wait, int(limiter.capacity))
