"""JSON request bodies must be text: checked once for every route, before any route reads them.

* A JSON body that is not UTF-8 is refused with ``422``, code ``invalid_encoding``, field ``body``
  (it used to reach the framework's parser and come back as an undocumented ``400`` ``error``).
* A string or key holding a lone UTF-16 surrogate (``"\\ud800"``: valid JSON escape syntax, but
  not text that PostgreSQL, the JSON encoder or an e-mail can hold) is refused with ``422``, code
  ``invalid``, with an ``errors`` entry naming the field (``questionnaire.symptoms.note``), like
  every other validation error.
* A body nested too deeply for the parser is refused with ``422`` naming ``body``.

A body counts as JSON when its content type is ``application/json`` or ``…+json``, or when it has
no content type and starts like JSON. Only bodies whose raw bytes contain a surrogate escape are
parsed here; every other body passes after a UTF-8 check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.errors import problem

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE = re.compile("[\ud800-\udfff]")
_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def media_type(scope: Scope) -> bytes | None:
    """The request's media type (``application/json``), lower case, without parameters."""
    content_type = dict(scope.get("headers") or []).get(b"content-type")
    return None if content_type is None else content_type.split(b";", 1)[0].strip().lower()


def _json_media(media: bytes | None) -> bool:
    return media is None or media == b"application/json" or media.endswith(b"+json")


def _is_json(media: bytes | None, body: bytes) -> bool:
    return media is not None or body.lstrip()[:1] in (b"{", b"[", b'"')


def _name(path: list[str | int]) -> str:
    return ".".join(_printable(str(p)) for p in path) or "body"


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogates(value: Any) -> list[str]:
    """The fields (dotted paths) of a parsed JSON value whose text holds a lone surrogate."""
    found: list[str] = []
    stack: list[tuple[list[str | int], Any]] = [([], value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str) and _LONE.search(item):
            found.append(_name(path))
        elif isinstance(item, dict):
            for key, child in item.items():
                if _LONE.search(key):
                    found.append(_name([*path, key]))
                stack.append(([*path, key], child))
        elif isinstance(item, list):
            stack.extend(([*path, i], child) for i, child in enumerate(item))
    return sorted(found)


def check(body: bytes) -> dict[str, Any] | None:
    """The problem with a JSON body, or None when it is text (valid JSON is the route's business)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return problem(
            422,
            "Invalid input",
            "The request body is not UTF-8 text.",
            code="invalid_encoding",
            errors=[{"field": "body", "message": "must be UTF-8 encoded JSON", "type": "unicode_decode"}],
        )
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        parsed = json.loads(text)
    except RecursionError:
        return problem(
            422,
            "Invalid input",
            "The request body is nested too deeply.",
            code="invalid",
            errors=[{"field": "body", "message": "nested too deeply", "type": "json_invalid"}],
        )
    except ValueError:
        return None  # not JSON: the route says so, as for any malformed body
    fields = lone_surrogates(parsed)
    if not fields:
        return None
    message = "contains a lone surrogate (such as \\ud800), which is not text"
    return problem(
        422,
        "Invalid input",
        f"Please check: {', '.join(fields)}",
        code="invalid",
        errors=[{"field": field, "message": message, "type": "string_unicode"} for field in fields],
    )


class JsonTextMiddleware:
    """Refuse JSON bodies that are not text (see the module docstring) before the app reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        media = media_type(scope) if scope["type"] == "http" else None
        if scope["type"] != "http" or scope.get("method") not in _METHODS or not _json_media(media):
            await self.app(scope, receive, send)
            return
        messages, body = await read_body(receive)
        refused = check(body) if body and _is_json(media, body) else None
        if refused is not None:
            await _reply(send, refused)
            return
        await self.app(scope, replaying(messages, receive), send)


async def read_body(receive: Receive) -> tuple[list[Message], bytes]:
    """Every message of a request body as received, and the body they carry. A message other than
    ``http.request`` (the client left, or an outer limit stopped reading) ends it, kept for the app."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again (read by ``read_body``), then what follows."""

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _reply(send: Send, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": body["status"],
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
