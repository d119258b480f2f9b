"""The submission web app and HTTP API: FastAPI routes, tokens, outbox and the web form."""

from producers.http.api import create_api

__all__ = ["create_api"]
