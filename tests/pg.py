"""Which real PostgreSQL the tests use: TEST_DATABASE_URL, else DATABASE_URL, else an embedded one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from backend.db.embedded import start_embedded


def _configured() -> str | None:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        value = os.environ.get(name)
        if value:
            return value
    return None


def admin_dsn() -> str:
    configured = _configured()
    if configured:
        return configured
    folder = Path(tempfile.gettempdir()) / "ohconnect-test-pg"
    return start_embedded(folder)


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def client_programs() -> Path | None:
    """Where the PostgreSQL client programs matching the tests' server are, when the server is the
    embedded one (its own pg_dump, pg_restore and psql; the machine's may be another version)."""
    if _configured():
        return None
    from pgserver._commands import POSTGRES_BIN_PATH  # the embedded server's own build

    return Path(POSTGRES_BIN_PATH)
