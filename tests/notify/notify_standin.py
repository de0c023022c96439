"""A loopback stand-in for the GOV.UK Notify API that checks each request against Notify's
documented API (https://docs.notifications.service.gov.uk/rest-api.html):

- ``POST /v2/notifications/sms`` with JSON ``phone_number``, ``template_id``, optional
  ``personalisation`` (object) and ``reference`` (string);
- ``POST /v2/notifications/email`` with ``email_address`` in place of ``phone_number``;
- ``Authorization: Bearer <JWT>``: header ``{"typ": "JWT", "alg": "HS256"}``, claims ``iss`` (the
  service id) and ``iat`` (seconds, within 30 s of now), signed with the key's secret. An API key is
  ``{key name}-{service id}-{secret}``.

Valid requests get Notify's 201 answer; invalid ones the 400/403 error body Notify sends. A test
can queue other answers (``script``), e.g. 429 or 500.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    claims: dict[str, Any]


@dataclass
class NotifyStandIn:
    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: list[Request] = field(default_factory=list)
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def api_key(self) -> str:
        return f"ohconnect_test-{self.service_id}-{self.secret}"

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                status, body = standin.answer(self.path, dict(self.headers), self.rfile.read(length))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        kind = {"/v2/notifications/sms": "sms", "/v2/notifications/email": "email"}.get(path)
        if kind is None:
            return self._error(404, "BadRequestError", f"no such endpoint {path}")
        auth = self._check_token(headers)
        if isinstance(auth, str):
            return self._error(403, "AuthError", auth)
        problem, body = self._check_body(kind, headers, raw)
        if problem:
            return self._error(400, "ValidationError", problem)
        self.received.append(Request(path, body, auth))
        if self.script:
            return self.script.pop(0)
        return 201, self._created(kind, body)

    def _error(self, status: int, error: str, message: str) -> tuple[int, dict[str, Any]]:
        self.problems.append(message)
        return status, {"errors": [{"error": error, "message": message}], "status_code": status}

    def _check_token(self, headers: dict[str, str]) -> dict[str, Any] | str:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return "Unauthorized: authentication token must be provided"
        try:
            if jwt.get_unverified_header(token) != {"typ": "JWT", "alg": "HS256"}:
                return "Invalid token: header"
            claims: dict[str, Any] = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.InvalidTokenError as exc:
            return f"Invalid token: {exc}"
        if claims.get("iss") != self.service_id:
            return "Invalid token: service not found"
        if not isinstance(claims.get("iat"), int) or abs(time.time() - claims["iat"]) > 30:
            return "Error: Your system clock must be accurate to within 30 seconds"
        return claims

    @staticmethod
    def _check_body(kind: str, headers: dict[str, str], raw: bytes) -> tuple[str | None, dict[str, Any]]:
        if headers.get("Content-type", headers.get("Content-Type")) != "application/json":
            return "Content-Type must be application/json", {}
        body = json.loads(raw)
        address = "phone_number" if kind == "sms" else "email_address"
        allowed = {
            address,
            "template_id",
            "personalisation",
            "reference",
            "sms_sender_id",
            "email_reply_to_id",
        }
        if set(body) - allowed:
            return f"Additional properties are not allowed ({sorted(set(body) - allowed)})", body
        if not isinstance(body.get(address), str) or not body[address]:
            return f"{address} is a required property", body
        try:
            uuid.UUID(body.get("template_id", ""))
        except ValueError:
            return "template_id is not a valid UUID", body
        if not isinstance(body.get("personalisation", {}), dict):
            return "personalisation is not of type object", body
        if not isinstance(body.get("reference", ""), str):
            return "reference is not of type string", body
        return None, body

    @staticmethod
    def _created(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        notification = str(uuid.uuid4())
        content: dict[str, Any] = {"body": body.get("personalisation", {}).get("body", "")}
        if kind == "sms":
            content["from_number"] = "OHConnect"
        else:
            content |= {
                "subject": body["personalisation"].get("subject", ""),
                "from_email": "oh@notify.example",
            }
        return {
            "id": notification,
            "reference": body.get("reference"),
            "content": content,
            "uri": f"https://api.notifications.service.gov.uk/v2/notifications/{notification}",
            "template": {"id": body["template_id"], "version": 1, "uri": "https://api.example/template"},
        }
