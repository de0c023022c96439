"""`ohconnect serve` on the embedded PostgreSQL stops that server when it is itself stopped with
SIGTERM (as a service manager or `kill` stops it), and starts it again next time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env |= {"OHCONNECT_ENVIRONMENT": "development", "OHCONNECT_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "backend.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def _wait_healthy(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not become ready:\n{log.read_text()}")


def _postmaster(data_dir: Path) -> int | None:
    """The embedded server's process id while it runs, else None."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def test_sigterm_stops_the_embedded_postgresql(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for _ in range(2):  # and the next start finds it stopped and starts it again
        port = free_port()
        log = tmp_path / "serve.log"
        process = _serve(data_dir, port, log)
        try:
            _wait_healthy(process, port, log)
            assert _postmaster(data_dir) is not None
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 128 + signal.SIGTERM
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        deadline = time.monotonic() + 30
        while _postmaster(data_dir) is not None:
            assert time.monotonic() < deadline, "the embedded PostgreSQL is still running"
            time.sleep(0.2)
