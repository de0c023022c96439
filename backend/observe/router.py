"""``GET /metrics`` for operators: loopback clients, or the bearer token in OHCONNECT_METRICS_TOKEN.

Anyone else gets the same 404 as for a page that does not exist. A request that came through a
proxy (it carries a forwarding header) is never trusted as loopback, even from 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import secrets

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from backend.core.config import Settings
from backend.observe import service

router = APIRouter()

FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _loopback(request: Request) -> bool:
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token_ok(request: Request, settings: Settings) -> bool:
    if settings.metrics_token is None:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    wanted = settings.metrics_token.get_secret_value()
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), wanted.encode())


def allowed(request: Request, settings: Settings) -> bool:
    return _token_ok(request, settings) or _loopback(request)


async def _unknown_page(request: Request) -> Response:
    """Exactly what a page that does not exist gets (the pages mount's "not found" page)."""
    for route in request.app.routes:
        pages = getattr(route, "app", None)
        if getattr(route, "name", None) == "ui" and isinstance(pages, StaticFiles):
            return await pages.get_response("metrics", request.scope)
    raise HTTPException(status_code=404, detail="Not Found")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    if not allowed(request, request.app.state.settings):
        return await _unknown_page(request)
    return Response(await service.render(request.app.state), media_type=CONTENT_TYPE_LATEST)
