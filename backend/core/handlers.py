"""Render every error as one application/problem+json body."""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.errors import AppError, RateLimited, problem

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def field_errors(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "field": _field_path(tuple(err.get("loc", ()))),
            "message": err.get("msg", "invalid"),
            "type": err["type"],
        }
        for err in raw
    ]


async def app_error(_: Request, exc: Exception) -> JSONResponse:
    exc = cast(AppError, exc)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
    return JSONResponse(exc.body(), status_code=exc.status_code, media_type=MEDIA_TYPE, headers=headers)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    errs = field_errors(list(exc.errors()))
    names = ", ".join(sorted({e["field"] for e in errs}))
    body = problem(422, "Invalid input", f"Please check: {names}", code="invalid", errors=errs)
    return JSONResponse(body, status_code=422, media_type=MEDIA_TYPE)


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    title = {404: "Not found", 405: "Method not allowed", 401: "Not signed in"}.get(exc.status_code, "Error")
    body = problem(exc.status_code, title, str(exc.detail), code=title.lower().replace(" ", "_"))
    return JSONResponse(body, status_code=exc.status_code, media_type=MEDIA_TYPE, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = problem(500, "Internal error", "Something went wrong; nothing was saved.", code="internal")
    return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
