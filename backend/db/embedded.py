"""An embedded, real PostgreSQL (pgserver) used when no DATABASE_URL is configured.

The server keeps its files in ``<data_dir>/pg``. Its Unix socket normally lives there too;
pgserver moves it to a short runtime folder when the path would exceed the ~107-byte limit
on socket paths, so deep data folders still work.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "ohconnect"


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded server and return a DSN for the application database."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pg"
    server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]  # re-exported untyped
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    uri: str = server.get_uri()
    socket_dir = uri.split("host=", 1)[1]
    logger.info("embedded PostgreSQL running, socket in %s", socket_dir)
    return f"postgresql://postgres@/{DATABASE_NAME}?host={quote(socket_dir, safe='/')}"
