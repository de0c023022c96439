"""Real ``ohconnect worker`` subprocesses on the test's database, their log kept in a file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FROM = "Demo OH <no-reply@oh.example>"


def smtp_env(port: int) -> dict[str, str]:
    return {
        "OHCONNECT_MAIL_SENDER": "smtp",
        "OHCONNECT_SMTP_HOST": "127.0.0.1",
        "OHCONNECT_SMTP_PORT": str(port),
        "OHCONNECT_SMTP_SECURITY": "none",
        "OHCONNECT_MAIL_FROM": FROM,
        "OHCONNECT_MAIL_POLL_SECONDS": "1",
        "OHCONNECT_MAIL_RETRY_BASE_SECONDS": "0.2",
    }


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 40)

    async def kill(self) -> int:
        self.process.send_signal(signal.SIGKILL)
        return await asyncio.wait_for(self.process.wait(), 10)


async def start_worker(dsn: str, env: dict[str, str], *, log_path: Path) -> Worker:
    """Start ``ohconnect worker`` and wait until it says it has started."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OHCONNECT_")}
    environment |= {"DATABASE_URL": dsn, "OHCONNECT_ENVIRONMENT": "test", "OHCONNECT_LOG_LEVEL": "INFO"}
    environment |= env
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backend.cli", "worker", cwd=ROOT, env=environment,
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    worker = Worker(process, log_path)
    deadline = time.monotonic() + 60
    while "job worker" not in worker.log() or " started" not in worker.log():
        assert process.returncode is None, f"the worker exited:\n{worker.log()}"
        assert time.monotonic() < deadline, f"the worker did not start:\n{worker.log()}"
        await asyncio.sleep(0.1)
    return worker


@asynccontextmanager
async def workers(dsn: str, env: dict[str, str], count: int = 1) -> AsyncIterator[list[Worker]]:
    """``count`` workers at once; each is stopped (SIGTERM) afterwards unless already gone."""
    with tempfile.TemporaryDirectory(prefix="ohc-worker-") as folder:
        started = await asyncio.gather(
            *(start_worker(dsn, env, log_path=Path(folder) / f"worker-{n}.log") for n in range(count))
        )
        try:
            yield list(started)
        finally:
            for worker in started:
                if worker.process.returncode is None:
                    await worker.stop()
