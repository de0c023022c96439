"""The job queue (procrastinate on the application's PostgreSQL) and its workers.

Each round of ``backend.jobs.rounds.ROUNDS`` is a periodic task with a queueing lock and a lock of
its own name: at most one run waits in the queue and at most one runs, across every worker. Any
number of workers (``ohconnect worker`` processes, app processes with OHCONNECT_INPROCESS_JOBS on)
may run at once: each schedule tick is queued once (procrastinate records it), and a job goes to
one worker only. A worker that stops answering (no heartbeat for OHCONNECT_JOBS_STALLED_SECONDS,
for example killed) has its running jobs handed on by the others' sweeper: a round is marked
aborted and the next scheduled run takes over its work; any other job is queued again. A round
with a ``wake_on`` channel is also queued as soon as that channel is notified (delivery: when
messages are queued), so the schedule is only the fallback.

The queue's own connections use the connecting (owner) role; the rounds use the application pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job, Status
from procrastinate.tasks import Task

from backend.core.config import Settings
from backend.jobs import rounds
from backend.jobs.rounds import JobRuntime, Round

logger = logging.getLogger("ohconnect.jobs")

QUEUE = "rounds"
TASK_PREFIX = "ohconnect."
RUNTIME = "ohconnect"  # key of the runtime in each job's additional context
HOUSEKEEPING_KEEP_HOURS = 24 * 14


def task_name(item: Round) -> str:
    return TASK_PREFIX + item.name


def build_app(dsn: str, settings: Settings, *, max_connections: int = 3) -> procrastinate.App:
    """A job queue app on ``dsn`` with every round registered on its schedule (not yet opened)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=dsn,
        min_size=1,
        max_size=max_connections,
        kwargs={"application_name": "ohconnect-jobs"},
    )
    app = procrastinate.App(connector=connector)
    for item in rounds.ROUNDS:
        _register(app, item, settings)
    _register_housekeeping(app)
    return app


def _register(app: procrastinate.App, item: Round, settings: Settings) -> None:
    async def run(context: JobContext, timestamp: int) -> int:
        runtime: JobRuntime = context.additional_context[RUNTIME]
        return await rounds.run_round(item, runtime)

    task = app.task(
        name=task_name(item), queue=QUEUE, lock=item.name, queueing_lock=item.name, pass_context=True
    )(run)
    app.periodic(cron=item.cron(settings), periodic_id=item.name)(task)


def _register_housekeeping(app: procrastinate.App) -> None:
    """Daily: forget finished jobs older than two weeks (succeeded ones are deleted at once)."""

    async def housekeeping(context: JobContext, timestamp: int) -> int:
        await context.app.job_manager.delete_old_jobs(
            nb_hours=HOUSEKEEPING_KEEP_HOURS,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )
        return 0

    name = "job_housekeeping"
    task = app.task(name=TASK_PREFIX + name, queue=QUEUE, lock=name, queueing_lock=name, pass_context=True)(
        housekeeping
    )
    app.periodic(cron="41 3 * * *", periodic_id=name)(task)


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 4
    stalled_s: float = 30.0
    graceful_s: float = 20.0  # on stop, running jobs may finish this long, then they are cancelled
    install_signal_handlers: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, **changes: float | int | bool) -> WorkerOptions:
        return cls(stalled_s=settings.jobs_stalled_seconds, **changes)  # type: ignore[arg-type]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_worker(
    app: procrastinate.App, runtime: JobRuntime, options: WorkerOptions, *, dsn: str
) -> None:
    """Work on the queue until cancelled (or, with signal handlers, until SIGINT/SIGTERM)."""
    sweeper = asyncio.create_task(sweep_stalled(app, options.stalled_s), name="stalled-job sweeper")
    waker = asyncio.create_task(wake_rounds(app, dsn), name="round waker")
    try:
        await app.run_worker_async(
            queues=[QUEUE],
            name=worker_name(),
            concurrency=options.concurrency,
            delete_jobs="successful",
            additional_context={RUNTIME: runtime},
            install_signal_handlers=options.install_signal_handlers,
            update_heartbeat_interval=max(0.2, options.stalled_s / 3),
            stalled_worker_timeout=options.stalled_s,
            shutdown_graceful_timeout=options.graceful_s,
            fetch_job_polling_interval=5.0,
        )
    finally:
        for side in (sweeper, waker):
            side.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await side


async def wake_rounds(app: procrastinate.App, dsn: str) -> None:
    """Queue a round at once when its ``wake_on`` channel is notified (delivery: a message was
    queued), on a listening connection of its own; reconnects after a failure."""
    channels = {r.wake_on: app.tasks[task_name(r)] for r in rounds.ROUNDS if r.wake_on}
    while channels:
        try:
            await _listen(channels, dsn)
        except (
            OSError,
            TimeoutError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            ConnectorException,
        ) as exc:
            logger.warning("round wake-up listener failed: %s", type(exc).__name__)
        await asyncio.sleep(5)


async def _listen(channels: dict[str, Task[..., Any, Any]], dsn: str) -> None:
    woken: set[str] = set()
    event = asyncio.Event()

    def notified(_conn: object, _pid: int, channel: str, _payload: object) -> None:
        woken.add(channel)
        event.set()

    conn = await asyncpg.connect(dsn, timeout=10, server_settings={"application_name": "ohconnect-jobs"})
    try:
        for channel in channels:
            await conn.add_listener(channel, notified)
        while not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 30)
            event.clear()
            for channel in list(woken):
                woken.discard(channel)
                with contextlib.suppress(AlreadyEnqueued):  # a run is already waiting
                    await channels[channel].defer_async(timestamp=int(time.time()))
    finally:
        await conn.close()


async def sweep_stalled(app: procrastinate.App, stalled_s: float) -> None:
    while True:
        try:
            await hand_on_stalled(app, stalled_s)
        except Exception as exc:  # the database went away, for example: sweep again later
            logger.warning("stalled-job sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(max(0.5, stalled_s / 2))


async def hand_on_stalled(app: procrastinate.App, stalled_s: float) -> list[Job]:
    """Jobs left running by workers silent for ``stalled_s``: a round is aborted (its next
    scheduled run does its work), any other job is queued again. Returns the jobs handed on."""
    manager = app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_s))
    handed: list[Job] = []
    for job in stalled:
        if job.id is None:
            continue
        try:
            if job.queueing_lock:
                await manager.finish_job_by_id_async(job.id, status=Status.ABORTED, delete_job=False)
            else:
                await manager.retry_job(job)
        except ConnectorException:
            continue  # another worker's sweeper got there first
        logger.warning("job %s (%s) of a worker that stopped answering was handed on", job.id, job.task_name)
        handed.append(job)
    await manager.prune_stalled_workers(stalled_s)
    return handed


class InProcessJobs:
    """A job worker inside an app process (OHCONNECT_INPROCESS_JOBS): started and stopped by the
    app's lifespan, on the app's own pool."""

    def __init__(self, app: procrastinate.App, task: asyncio.Task[None]) -> None:
        self.app = app
        self.task = task

    @classmethod
    async def start(cls, dsn: str, runtime: JobRuntime) -> InProcessJobs:
        app = build_app(dsn, runtime.settings, max_connections=3)
        await app.open_async()
        options = WorkerOptions.from_settings(runtime.settings, concurrency=2, graceful_s=2.0)
        task = asyncio.create_task(_supervise(app, runtime, options, dsn), name="in-process jobs")
        return cls(app, task)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.app.close_async()


async def _supervise(app: procrastinate.App, runtime: JobRuntime, options: WorkerOptions, dsn: str) -> None:
    """Keep the in-process worker running: after a failure (the database went away), start again."""
    while True:
        try:
            await run_worker(app, runtime, options, dsn=dsn)
            return
        except (ConnectorException, OSError, procrastinate.exceptions.ProcrastinateException) as exc:
            logger.warning("in-process job worker stopped (%s); starting again in 5 s", type(exc).__name__)
        await asyncio.sleep(5)
