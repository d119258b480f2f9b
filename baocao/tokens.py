"""Where the API keeps its SQLite files, and the ``baocao tokens`` commands' work."""

from __future__ import annotations

from pathlib import Path

from contract.settings import Settings
from producers.http.auth import TokenStore


def data_dir(settings: Settings) -> Path:
    """The service's data directory: ``BAOCAO_DATA_DIR`` if set, else next to the warehouse."""
    configured = settings.data_dir
    return Path(configured) if configured else settings.chdb_path.parent


def tokens_path(settings: Settings) -> Path:
    return data_dir(settings) / "tokens.sqlite"


def outbox_path(settings: Settings) -> Path:
    return data_dir(settings) / "outbox.sqlite"


def open_tokens(settings: Settings) -> TokenStore:
    return TokenStore(tokens_path(settings))
