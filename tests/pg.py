"""Which real PostgreSQL the tests use: TEST_DATABASE_URL, else DATABASE_URL, else an embedded one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from backend.db.embedded import start_embedded


def admin_dsn() -> str:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        value = os.environ.get(name)
        if value:
            return value
    folder = Path(tempfile.gettempdir()) / "ohconnect-test-pg"
    return start_embedded(folder)


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))
