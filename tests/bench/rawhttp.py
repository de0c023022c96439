"""A minimal HTTP/1.1 keep-alive client for load generation.

The load generator shares the machine with the server under test, so every millisecond it spends
per request is taken from the server. httpx costs several milliseconds of CPU per request; this
client writes a pre-built request and reads one ``Content-Length`` response, costing a small
fraction of that. It understands only what the benchmarked servers send: a status line, headers
and a ``Content-Length`` body (no chunked encoding).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class ConnectionLost(Exception):
    """The connection closed or failed before a whole response arrived."""


def build_post(url: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One complete POST request, ready to be written as often as needed."""
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Client:
    """One keep-alive connection; one request at a time, reconnecting after a failure."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Write ``request`` and return (status, body); ``ConnectionLost`` when the connection fails."""
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await self._reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            await self.close()
            raise ConnectionLost(str(exc)) from exc
        return status, body

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
