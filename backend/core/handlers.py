"""Render every error as one application/problem+json body."""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

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


# FastAPI's answer when a JSON body cannot be parsed for another reason than its syntax (for example
# nested deeper than the parser follows): a body error like any other, 422 naming ``body``.
_BODY_PARSE_ERROR = "There was an error parsing the body"


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
        errs = [{"field": "body", "message": "could not be read as JSON", "type": "json_invalid"}]
        body = problem(422, "Invalid input", "Please check: body", code="invalid", errors=errs)
        return JSONResponse(body, status_code=422, media_type=MEDIA_TYPE)
    title = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        401: "Not signed in",
    }.get(exc.status_code, "Error")
    body = problem(exc.status_code, title, str(exc.detail), code=title.lower().replace(" ", "_"))
    return JSONResponse(body, status_code=exc.status_code, media_type=MEDIA_TYPE, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = problem(500, "Internal error", "Something went wrong; nothing was saved.", code="internal")
    return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_ROUTE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some API route takes at this path (asked of the routes, however nested)."""
    allowed = []
    for method in _ROUTE_METHODS:
        scope = {**request.scope, "method": method}
        for route in app.router.routes:
            if isinstance(route, Mount) or getattr(route, "name", "") == "api_fallback":
                continue
            if route.matches(scope)[0] == Match.FULL:
                allowed.append(method)
                break
    return allowed


def install_api_fallback(app: FastAPI, prefix: str = "/api/") -> None:
    """Requests under ``prefix`` that no API route takes get their answer here, never from the
    static-file mount: ``405`` with the path's real ``Allow`` list when the path exists (``OPTIONS``
    included: the app does no CORS), otherwise ``404``; both ``application/problem+json``.
    Call after including every router and before mounting the pages."""

    async def api_fallback(request: Request, rest: str) -> JSONResponse:
        allowed = _allowed_methods(app, request)
        if allowed:
            detail = f"{request.method} is not allowed here; use {', '.join(allowed)}."
            body = problem(405, "Method not allowed", detail, code="method_not_allowed")
            headers = {"Allow": ", ".join(allowed)}
            return JSONResponse(body, status_code=405, media_type=MEDIA_TYPE, headers=headers)
        body = problem(404, "Not found", "No such API endpoint.", code="not_found")
        return JSONResponse(body, status_code=404, media_type=MEDIA_TYPE)

    app.add_api_route(prefix + "{rest:path}", api_fallback, methods=_ALL_METHODS, include_in_schema=False)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
