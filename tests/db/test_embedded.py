"""The embedded PostgreSQL starts in a deep data folder (socket path past the Unix limit)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
from pgserver.postgres_server import get_server

from backend.db.embedded import DATABASE_NAME, start_embedded

UNIX_SOCKET_PATH_MAX = 107


async def test_starts_in_a_folder_too_deep_for_a_unix_socket(tmp_path: Path) -> None:
    data_dir = tmp_path / ("deep-" * 12) / ("deeper-" * 10)
    assert len(str(data_dir / "pg" / ".s.PGSQL.5432").encode()) > UNIX_SOCKET_PATH_MAX

    dsn = start_embedded(data_dir)
    try:
        socket_dir = parse_qs(urlsplit(dsn).query)["host"][0]
        assert len(str(Path(socket_dir) / ".s.PGSQL.5432").encode()) <= UNIX_SOCKET_PATH_MAX
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT current_database()") == DATABASE_NAME
            assert await conn.fetchval("SELECT 6 * 7") == 42
        finally:
            await conn.close()
        # Starting again attaches to the running server and finds the database already there.
        assert start_embedded(data_dir) == dsn
    finally:
        get_server(data_dir / "pg").cleanup()
