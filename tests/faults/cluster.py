"""A private PostgreSQL cluster for fault tests: its own data folder and loopback port, so a test
can restart it without touching the shared server other tests use.

Binaries: the newest of /usr/lib/postgresql/*/bin (Debian), else the ones the ``pgserver``
package ships. As root (CI), the server runs as the ``postgres`` system user (Debian's), or
``pgserver``'s user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.conftest import free_port


def bin_dir() -> Path:
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root needs a 'postgres' system user to run PostgreSQL")


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.bin = bin_dir()
        self.user = _system_user()

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def _run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await process.communicate()
        text = out.decode(errors="replace")
        if process.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace") if self.log_exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed: {text}\n{log[-2000:]}")
        return text

    def log_exists(self) -> bool:
        return (self.folder / "server.log").exists()

    async def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            shutil.chown(self.folder, entry.pw_uid, entry.pw_gid)
        await self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )

    async def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=100"
        await self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    async def restart(self) -> float:
        """``pg_ctl restart -m fast``: every connection is cut; seconds until it accepts again."""
        began = time.monotonic()
        log = str(self.folder / "server.log")  # without it the new server would write to our pipe
        await self._run("pg_ctl", "-D", str(self.data), "-l", log, "-m", "fast", "-w", "restart")
        return time.monotonic() - began

    async def stop(self) -> None:
        await self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@asynccontextmanager
async def private_cluster(database: str = "ohconnect") -> AsyncIterator[Cluster]:
    """A running private cluster with an empty ``database``; stopped and removed afterwards.

    Its folder is directly under the temporary folder, which the server's user can reach."""
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="ohconnect-faults-pg-")))
    try:
        await cluster.init()
        await cluster.start()
    except BaseException:
        shutil.rmtree(cluster.folder, ignore_errors=True)
        raise
    try:
        admin = await asyncpg.connect(cluster.dsn())
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        yield cluster
    finally:
        try:
            await cluster.stop()
        finally:
            shutil.rmtree(cluster.folder, ignore_errors=True)
