"""``POST /api/v1/readings/batches`` answered without FastAPI's per-request machinery.

Every measuring phone calls this endpoint once a second, and with one process under load
FastAPI's routing, dependency solving, body parsing and response classes cost about as much CPU
as storing the batch (``tests/bench/RESULTS.md``, 2026-12-03). This ASGI middleware takes such a
request before the router does and stores the batch with the same code as the route
(``backend.readings.router.post_batch``): the same sender check, ``ingest.ingest``, the same
receipt and status.

It answers only what it is sure to answer the same way: a JSON body that is UTF-8 text and a
valid ``ReadingBatch``, sent with credentials. Anything else (no credentials, a body the text
check or the model refuses, a body cut off by the size limit, a client that left) is handed on
untouched, body included, to the ordinary route, whose answers the API describes. An error
raised while storing is answered by the app's own exception handlers, as the route's would be;
one without a handler propagates to the server-error handler, as it would from the route.

It sits inside the body-size limit, the metrics and the security headers, so those apply as to
every request; the request carries the route, so metrics and logs name its template.
``OHCONNECT_READINGS_FAST_PATH=false`` leaves the endpoint to the route alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.auth.deps import has_credentials
from backend.core import jsonbody
from backend.db.deps import connection
from backend.readings import ingest
from backend.readings.deps import writer_of
from sensors.protocol import ReadingBatch

PATH = "/api/v1/readings/batches"
_JSON = b"application/json"

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class FastBatches:
    """The middleware (see the module docstring); ``route`` is the route it stands in for."""

    def __init__(self, app: ASGIApp, *, route: BaseRoute, handlers: dict[Any, Handler]) -> None:
        self.app = app
        self.route = route
        self.handlers = handlers  # the app's exception handlers, by class (FastAPI's own dict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        messages, body = await jsonbody.read_body(receive)
        replay = jsonbody.replaying(messages, receive)
        batch = _batch(scope, messages, body)
        if batch is None:
            await self.app(scope, replay, send)  # the route answers, from the same body
            return
        scope["route"] = self.route
        request = Request(scope, replay)
        try:
            async with connection(request) as conn:
                writer = await writer_of(request, conn)
                receipt, created = await ingest.ingest(conn, writer, batch, request.app.state.ingestion)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = answer if isinstance(answer, Response) else await answer
            await response(scope, replay, send)
            return
        data = receipt.model_dump_json().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201 if created else 200,
                "headers": [(b"content-length", str(len(data)).encode()), (b"content-type", _JSON)],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def _handler(self, exc: Exception) -> Handler | None:
        """The app's handler for ``exc``, as Starlette finds it; a catch-all (``Exception``) is
        the server-error handler's, reached by raising."""
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in self.handlers:
                return self.handlers[cls]
        return None


def _batch(scope: Scope, messages: list[Message], body: bytes) -> ReadingBatch | None:
    """The batch, when this request is one the fast path answers exactly as the route would."""
    if messages[-1]["type"] != "http.request":
        return None
    if jsonbody.media_type(scope) != _JSON:
        return None
    if not has_credentials(Request(scope)):
        return None
    if jsonbody.check(body) is not None:
        return None
    try:
        return ReadingBatch.model_validate_json(body)
    except ValidationError:
        return None


def batch_route(routes: list[BaseRoute]) -> BaseRoute:
    """The ``POST`` route of ``PATH`` among ``routes`` (a router's)."""
    for route in routes:
        if getattr(route, "path", None) == PATH and "POST" in (getattr(route, "methods", None) or ()):
            return route
    raise LookupError(f"no POST {PATH} route")
