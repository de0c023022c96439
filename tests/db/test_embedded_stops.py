"""`ohconnect serve` on the embedded PostgreSQL stops that server when it is itself stopped with
SIGTERM (as a service manager or `kill` stops it), and starts it again next time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil

from tests.conftest import free_port
from tests.processes import wait_ready


async def _serve(data_dir: Path, port: int, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env |= {"OHCONNECT_ENVIRONMENT": "development", "OHCONNECT_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "backend.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(*command, env=env, stdout=out, stderr=out)


def _postmaster(data_dir: Path) -> psutil.Process | None:
    """The embedded server's main process while it runs, else None."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    try:
        return psutil.Process(int(pid_file.read_text().split()[0]))
    except psutil.NoSuchProcess:
        return None


async def test_sigterm_stops_the_embedded_postgresql(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    for _ in range(2):  # and the next start finds it stopped and starts it again
        port = free_port()
        process = await _serve(data_dir, port, log)
        try:
            await wait_ready(f"http://127.0.0.1:{port}", process, timeout_s=90)
            postmaster = _postmaster(data_dir)
            assert postmaster is not None, log.read_text()
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 60) == 128 + signal.SIGTERM, log.read_text()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        try:
            await asyncio.to_thread(postmaster.wait, 30)
        except psutil.TimeoutExpired:
            raise AssertionError("the embedded PostgreSQL is still running") from None
        assert _postmaster(data_dir) is None
