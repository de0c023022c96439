"""Heart-rate estimates off the event loop, in worker processes reached over pipes.

The estimator (``sensors.ppg``) is many small NumPy calls. Run in a thread of the app process it
competes with the event loop for the GIL at every call, and the hand-overs cost more CPU than the
estimate itself (measured: 1.9 ms of app CPU per batch with the estimate on the loop, 4.5 ms with
it in a thread). Here each estimate is written as one frame to a worker process's stdin and its
answer read back from its stdout by the event loop itself: no thread in the app process.

Workers start on the first estimate (an app that never sees PPG starts none). A worker that dies
or stalls is stopped and replaced on the next estimate; the estimates it held are made in a
thread instead, so that no batch loses its heart rate.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import struct
import sys
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from sensors import ppg

logger = logging.getLogger(__name__)

REQUEST = struct.Struct("<Id")  # sample count, sampling rate (Hz); then the samples, float64
ANSWER = struct.Struct("<?ddH")  # failed, bpm (NaN: none), quality, length of the UTF-8 reason
MAX_SAMPLES = 1 << 20  # a window is at most 10 s at 500 Hz; anything near this is a broken frame
STALLED_S = 10.0  # an estimate takes milliseconds; a worker this late is taken as stuck
STARTING_S = 120.0  # loading NumPy and SciPy takes about a second, longer on a busy machine
READY = "ready"  # the reason of the worker's first frame, sent before any request
MODULE = "backend.readings.estimator_process"


@dataclass(frozen=True, slots=True)
class Estimate:
    """What the batch needs of ``sensors.ppg.HeartRateEstimate``."""

    bpm: float | None
    quality: float
    reason: str | None


class WorkerGone(Exception):
    """The worker process ended or stopped answering before it answered."""


def encode_request(window: Sequence[float], fs: float) -> bytes:
    return REQUEST.pack(len(window), fs) + array("d", window).tobytes()


def encode_answer(bpm: float | None, quality: float, reason: str | None, *, failed: bool = False) -> bytes:
    text = (reason or "").encode()[:4096]
    return ANSWER.pack(failed, math.nan if bpm is None else bpm, quality, len(text)) + text


def estimate_here(window: Sequence[float], fs: float) -> Estimate:
    """The estimate in this process (the fallback, and ``estimator_processes = 0``)."""
    result = ppg.estimate_heart_rate(window, fs)
    return Estimate(result.bpm, result.quality, result.reason)


async def _await_ready(process: asyncio.subprocess.Process) -> None:
    if process.stdout is None:  # never: started with stdout=PIPE
        raise ValueError("no stdout")
    failed, _bpm, _quality, size = ANSWER.unpack(await process.stdout.readexactly(ANSWER.size))
    reason = (await process.stdout.readexactly(size)).decode()
    if failed or reason != READY:
        raise ValueError(f"unexpected first frame: {reason!r}")


class _Worker:
    """One worker process and the estimates it owes, oldest first (it answers in order)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.owed: deque[asyncio.Future[Estimate]] = deque()
        self.alive = True
        self.reader = asyncio.create_task(self._read_answers(), name="estimator answers")

    @classmethod
    async def start(cls) -> _Worker:
        """A worker that has loaded its libraries and said it is ready (OSError if it did not)."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "OMP_NUM_THREADS": "1"}
        pipe = asyncio.subprocess.PIPE
        command = (sys.executable, "-m", MODULE)
        process = await asyncio.create_subprocess_exec(*command, stdin=pipe, stdout=pipe, env=env)
        try:
            await asyncio.wait_for(_await_ready(process), STARTING_S)
        except BaseException as exc:  # not ready, or the app is stopping: no worker left behind
            if process.returncode is None:
                process.kill()
            await process.wait()
            if isinstance(exc, TimeoutError | asyncio.IncompleteReadError | ValueError):
                raise OSError(f"the estimator process did not start: {exc!r}") from exc
            raise
        return cls(process)

    def submit(self, frame: bytes) -> asyncio.Future[Estimate]:
        stdin = self.process.stdin
        if not self.alive or stdin is None or stdin.is_closing():
            raise WorkerGone("the estimator process has ended")
        future: asyncio.Future[Estimate] = asyncio.get_running_loop().create_future()
        self.owed.append(future)
        stdin.write(frame)  # buffered by the transport; the pipe drains as the worker reads
        return future

    async def _read_answers(self) -> None:
        stdout = self.process.stdout
        if stdout is None:  # never: started with stdout=PIPE
            raise RuntimeError("the estimator process has no stdout")
        try:
            while True:
                failed, bpm, quality, size = ANSWER.unpack(await stdout.readexactly(ANSWER.size))
                reason = (await stdout.readexactly(size)).decode() if size else None
                future = self.owed.popleft()
                if future.done():  # its caller gave up waiting
                    continue
                if failed:
                    future.set_exception(ValueError(reason or "the estimate failed"))
                else:
                    future.set_result(Estimate(None if math.isnan(bpm) else bpm, quality, reason))
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass  # the worker ended (or answered what nobody asked: out of step, so stop it)
        finally:
            self._fail_owed()

    def _fail_owed(self) -> None:
        self.alive = False
        while self.owed:
            future = self.owed.popleft()
            if not future.done():
                future.set_exception(WorkerGone("the estimator process ended before answering"))

    async def stop(self) -> None:
        self.alive = False
        if self.process.returncode is None:
            if self.process.stdin is not None:
                self.process.stdin.close()  # the worker ends at the end of its input
            try:
                await asyncio.wait_for(self.process.wait(), 2.0)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self.reader
        self._fail_owed()


class Estimator:
    """Heart-rate estimates in ``processes`` worker processes (0: in a thread of this process)."""

    def __init__(self, processes: int, *, stalled_s: float = STALLED_S) -> None:
        self.processes = processes
        self.stalled_s = stalled_s
        self._workers: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None
        self._next_start = 0.0  # monotonic time before which no worker is started (after a failure)
        self._closed = False

    def warm(self) -> None:
        """Start the workers now, in the background (a measurement is about to begin)."""
        self._ready()

    async def estimate(self, window: Sequence[float], fs: float) -> Estimate:
        """The heart rate of ``window`` (samples at ``fs`` Hz); ValueError for a bad signal. Until
        a worker is ready (it starts on first use) the estimate is made in a thread instead."""
        worker = self._ready()
        if worker is None:
            return await asyncio.to_thread(estimate_here, window, fs)
        try:
            return await asyncio.wait_for(worker.submit(encode_request(window, fs)), self.stalled_s)
        except (WorkerGone, OSError, TimeoutError) as exc:
            logger.warning("heart-rate worker failed (%s); estimating in this process instead", exc)
            await self._retire(worker)
            return await asyncio.to_thread(estimate_here, window, fs)

    def _ready(self) -> _Worker | None:
        """The live worker owing the fewest estimates (None while none is), starting one in the
        background while fewer than ``processes`` are alive."""
        if self.processes == 0 or self._closed:
            return None
        live = self._workers = [w for w in self._workers if w.alive]
        loop = asyncio.get_running_loop()
        if len(live) < self.processes and self._starting is None and loop.time() >= self._next_start:
            self._starting = asyncio.create_task(self._start_one(), name="estimator start")
        return min(live, key=lambda w: len(w.owed)) if live else None

    async def _start_one(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            worker = await _Worker.start()
        except Exception as exc:  # any failure to start: estimate here, try again later
            logger.warning("could not start a heart-rate worker (%s); estimating in this process", exc)
            self._next_start = loop.time() + 5.0
            return
        finally:
            self._starting = None
        if self._closed:
            await worker.stop()
            return
        self._workers.append(worker)
        self._next_start = loop.time() + 1.0  # a worker that dies at once is not restarted in a loop

    async def _retire(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
        if worker.process.returncode is None:
            worker.process.kill()
        await worker.stop()

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids (for tests and diagnostics)."""
        return [w.process.pid for w in self._workers if w.alive]

    async def close(self) -> None:
        self._closed = True
        if self._starting is not None:
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        workers, self._workers = self._workers, []
        await asyncio.gather(*(w.stop() for w in workers))
