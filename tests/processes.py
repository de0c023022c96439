"""A second app process for tests that cross processes: a real uvicorn subprocess on the same database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.conftest import free_port


@asynccontextmanager
async def app_process(
    db_dsn: str, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """Start the app on a free port against an already migrated database; yield its URL once ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_dsn,
        "OHCONNECT_ENVIRONMENT": "test",
        "OHCONNECT_PUBLIC_URL": url,
        "OHCONNECT_DB_POOL_MIN": "1",
        "OHCONNECT_DB_POOL_MAX": "4",
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "--factory", "backend.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", env=env,
    )  # fmt: skip
    try:
        await wait_ready(url, process)
        yield url, process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)


async def wait_ready(url: str, process: asyncio.subprocess.Process, *, timeout_s: float = 30.0) -> None:
    """Until the app at ``url`` answers /readyz; fails if ``process`` exits first."""
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(int(timeout_s * 10)):
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert process.returncode is None, "the app process exited"
            await asyncio.sleep(0.1)
    raise AssertionError("the app process did not start")
