"""``ohconnect worker``: one job worker process, until SIGINT or SIGTERM (running jobs may finish
for a while, then are cancelled). Applies pending migrations first, as every command does."""

from __future__ import annotations

import logging

from backend.core.config import Settings
from backend.db import migrate, pool
from backend.jobs import queue
from backend.jobs.rounds import ROUNDS, JobRuntime

logger = logging.getLogger("ohconnect.jobs")


async def run(dsn: str, settings: Settings, *, concurrency: int) -> None:
    await migrate.migrate(dsn, app_role=settings.db_app_role)
    role = settings.db_app_role if await pool.app_role_usable(dsn, settings.db_app_role) else None
    db = await pool.create_pool(dsn, min_size=1, max_size=max(2, concurrency + 1), role=role)
    try:
        app = queue.build_app(dsn, settings, max_connections=concurrency + 2)
        async with app.open_async():
            logger.info(
                "job worker %s started: %s",
                queue.worker_name(),
                ", ".join(f"{r.name} ({r.cron(settings)})" for r in ROUNDS),
            )
            options = queue.WorkerOptions.from_settings(
                settings, concurrency=concurrency, install_signal_handlers=True
            )
            await queue.run_worker(app, JobRuntime.build(db, settings), options, dsn=dsn)
        logger.info("job worker %s stopped", queue.worker_name())
    finally:
        await db.close()
