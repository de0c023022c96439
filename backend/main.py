"""Composition root: create_app(settings) wires the pool, routers, handlers and pages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Scope

from backend.accounts.router import router as accounts_router
from backend.auth.router import router as auth_router
from backend.booking import cancelling as booking_cancelling
from backend.booking.router import router as booking_router
from backend.clinics import runtime as clinics_runtime
from backend.clinics.router import router as clinics_router
from backend.clinics.ws import router as clinics_ws_router
from backend.core import handlers
from backend.core import openapi as openapi_doc
from backend.core.config import Settings
from backend.core.http import BodyLimitMiddleware, SecurityHeadersMiddleware
from backend.core.jsonbody import JsonTextMiddleware
from backend.db import migrate, pool
from backend.db.pubsub import Hub
from backend.jobs.queue import InProcessJobs
from backend.jobs.rounds import JobRuntime
from backend.lifecycle.router import router as lifecycle_router
from backend.notify import mailbox
from backend.notify.router import router as messages_router
from backend.observe import tracing
from backend.observe.metrics import MetricsMiddleware
from backend.observe.router import router as metrics_router
from backend.readings import fastpath
from backend.readings.estimating import Estimator
from backend.readings.ingest import Ingestion
from backend.readings.recent import RecentStreams
from backend.readings.router import router as readings_router
from backend.readings.ws import router as readings_ws_router
from backend.referrals.router import OPENAPI_MODELS
from backend.referrals.router import router as referrals_router
from backend.reports import signing
from backend.reports.router import router as reports_router
from backend.surveillance.router import router as surveillance_router
from backend.users.router import router as users_router

logger = logging.getLogger(__name__)

DESCRIPTION = """
Occupational-health platform API. Sign in with `POST /api/v1/auth/login`, then send the
`access_token` as `Authorization: Bearer <token>` (or use the session cookie plus the
`X-CSRF-Token` header from sign-in, as the browser pages do). Errors are
`application/problem+json` with a stable `code` and, for invalid input, an `errors` list
naming each bad field. A JSON body must be UTF-8 text: otherwise `422` with code
`invalid_encoding`; a string holding a lone surrogate (`"\\ud800"`) is `422` naming the field.
"""


_READINESS_SCHEMA = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "migrating", "unavailable"]},
        "schema_version": {"type": "integer"},
        "expected": {"type": "integer"},
        "database": {"type": "string"},
    },
}
# Probes read this body (not a problem document): 503 while the database is unreachable or migrating.
_READINESS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Ready",
        "content": {
            "application/json": {
                "schema": _READINESS_SCHEMA,
                "example": {"status": "ready", "schema_version": 11, "expected": 11},
            }
        },
    },
    503: {
        "description": "Not ready: database unreachable or migrations pending; retry",
        "content": {
            "application/json": {
                "schema": _READINESS_SCHEMA,
                "example": {"status": "unavailable", "database": "unreachable"},
            }
        },
    },
}


def _ui_dir() -> Path:
    return Path(str(resources.files("clinic_ui")))


class Pages(StaticFiles):
    """The browser pages. An unknown page gets the HTML "not found" page (404.html); an unknown
    API or WebSocket address keeps the one problem+json error."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.split("/", 1)[0] in ("api", "ws"):
            raise StarletteHTTPException(status_code=404)
        return await super().get_response(path, scope)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # The document signer first: a missing or unusable key stops start-up, naming the setting.
    app.state.signer = await asyncio.to_thread(signing.load, settings)
    dsn = pool.resolve_dsn(settings)
    await migrate.migrate(dsn, app_role=settings.db_app_role)
    role = settings.db_app_role if await pool.app_role_usable(dsn, settings.db_app_role) else None
    if role is None:
        logger.warning(
            "application role %s unavailable; running as the connecting user, to whom row-level"
            " security between organisations does not apply",
            settings.db_app_role,
        )
    app.state.pool = await pool.create_pool(
        dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max, role=role
    )
    # Requests queue for connections first come, first served (backend.db.deps).
    app.state.pool_gate = asyncio.Semaphore(settings.db_pool_max)
    app.state.hub = Hub(dsn)
    await app.state.hub.start()
    # Background jobs (delivery, reminders, upkeep) in this process too, unless workers run them.
    jobs = (
        await InProcessJobs.start(dsn, JobRuntime.build(app.state.pool, settings))
        if settings.inprocess_jobs
        else None
    )
    clinics = await clinics_runtime.start(app.state, app.state.pool, app.state.hub, settings)
    # Batches of pulse readings: heart rates off the event loop, streams this process stored last.
    app.state.ingestion = Ingestion(settings, Estimator(settings.estimator_processes), RecentStreams())
    if app.state.tracing is not None:
        app.state.tracing.start()  # database spans from here on (start-up queries stay untraced)
    try:
        yield
    finally:
        if app.state.tracing is not None:
            app.state.tracing.stop()
        await clinics.stop()
        await app.state.ingestion.estimator.close()
        if jobs is not None:
            await jobs.stop()
        await app.state.hub.stop()
        await app.state.pool.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="ohconnect",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=openapi_doc.TAGS,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.tracing = tracing.install(app, settings)  # None unless an OTLP endpoint is set
    booking_cancelling.register(settings)  # a referral that closes cancels its appointment
    handlers.install(app)
    upload_limit = settings.attachment_max_bytes + 64 * 1024
    app.add_middleware(JsonTextMiddleware)  # inside the body limit: reads only what it let through
    if settings.readings_fast_path:  # also inside the limit; hands on what it does not answer
        route = fastpath.batch_route(readings_router.routes)
        app.add_middleware(fastpath.FastBatches, route=route, handlers=app.exception_handlers)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.request_max_bytes,
        large_paths={"/attachments": upload_limit, "/readings/batches": settings.readings_batch_max_bytes},
    )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookies_secure)
    app.include_router(auth_router)
    app.include_router(accounts_router)
    app.include_router(users_router)
    app.include_router(referrals_router)
    app.include_router(readings_router)
    app.include_router(readings_ws_router)
    app.include_router(booking_router)
    app.include_router(clinics_router)
    app.include_router(clinics_ws_router)
    app.include_router(surveillance_router)
    app.include_router(reports_router)
    app.include_router(messages_router)
    app.include_router(lifecycle_router)
    if mailbox.enabled(settings):
        app.include_router(mailbox.router)
    app.include_router(metrics_router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses=_READINESS)
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers and every migration is applied."""
        try:
            async with request.app.state.pool.acquire(timeout=5) as conn:
                version = await migrate.applied_version(conn)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            logger.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        wanted = migrate.latest_version()
        ready = version >= wanted
        return JSONResponse(
            {"status": "ready" if ready else "migrating", "schema_version": version, "expected": wanted},
            status_code=200 if ready else 503,
        )

    handlers.install_api_fallback(app)  # /api/* never reaches the pages below
    app.mount("/", Pages(directory=_ui_dir(), html=True), name="ui")
    _extend_openapi(app)
    return app


def _extend_openapi(app: FastAPI) -> None:
    """Add models used by hand-written request bodies to the document's components."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = base()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in OPENAPI_MODELS:
            generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(generated.pop("$defs", {}))
            schemas[model.__name__] = generated
        app.openapi_schema = openapi_doc.finish(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
