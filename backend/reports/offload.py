"""CPU-heavy document work (reportlab rendering, PDF signing) on a small pool of worker threads.

The event loop also carries waiting rooms, signalling and every other request, so it never
renders or signs itself. The pool is bounded and separate from the loop's default executor and
the request thread pool: a burst of PDFs queues here instead of taking every thread. Context
variables (the request id in log lines) travel with each call.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

THREAD_PREFIX = "ohconnect-pdf"
# Rendering is mostly pure Python (one core at a time under the GIL); two threads keep one PDF
# from waiting behind another's signature without letting a burst crowd the process.
MAX_THREADS = max(1, min(2, os.cpu_count() or 1))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix=THREAD_PREFIX)


async def run(work: Callable[[], T]) -> T:
    """``work()`` on a document thread; the caller's task waits without blocking the loop."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_pool(), context.run, work)
