"""Authorisation sweep built from /openapi.json: every operation with path parameters, every role of two
tenants (and anonymous), every record of the world in those parameters.

For a record outside the caller's reach the answer must be exactly the answer for a record that does
not exist (the same status and problem code: the documented refusal, revealing nothing). Every answer
must have a documented status. No successful answer may carry a marker of a record outside the
caller's reach, nor an employee's contact details (phone, address, date of birth, e-mail) to a
manager who did not make that referral (domain.md §2.2). GET operations without path parameters (the
lists) are scanned for the same leaks. New endpoints are covered without editing this file; a path
parameter the world has no records for fails the test.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from pypdf import PdfReader

from tests.processes import app_process
from tests.sweeps.world import PDF, Record, SweepWorld, build

METHODS = ("get", "put", "post", "delete", "patch")
ANONYMOUS = "anonymous"


@dataclass
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def params(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "path"]

    def url(self, ids: dict[str, str]) -> str:
        path = self.path
        for name in self.params:
            path = path.replace("{" + name + "}", ids[name])
        return path

    def query(self) -> dict[str, str]:
        """A valid value for each required query parameter (its example, or one made from its schema)."""
        return {
            p["name"]: str(p.get("example") or _value(p["schema"]))
            for p in self.spec.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }


def _value(schema: dict[str, Any]) -> Any:
    if "example" in schema or "default" in schema:
        return schema.get("example", schema.get("default"))
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("format") == "uuid":
        return uuid.uuid4()
    if schema.get("pattern") == "^[0-9a-fA-F]{64}$":
        return "0" * 64
    if schema.get("type") == "integer":
        return schema.get("minimum", 1)
    raise AssertionError(f"no value for a required query parameter with schema {schema}: teach the sweep")


@dataclass
class Findings:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    not_like_nothing: list[str] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)


def operations(document: dict[str, Any]) -> list[Operation]:
    found = [
        Operation(method, path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]
    return sorted(found, key=lambda op: (op.method != "get", op.path))  # reads before writes


def _example(document: dict[str, Any], content: dict[str, Any]) -> Any:
    if "example" in content:
        return content["example"]
    schema = content.get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return (schema.get("examples") or [None])[0]


def request_body(document: dict[str, Any], op: Operation) -> dict[str, Any]:
    """httpx keywords for the operation's documented body (its example), so checks past validation run."""
    content = op.spec.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return {"json": _example(document, content["application/json"])}
    if "multipart/form-data" in content:
        return {"files": {"file": ("notes.pdf", PDF, "application/pdf")}, "data": {"kind": "other"}}
    for media_type, media in content.items():
        data = _example(document, media)
        body = data.encode() if isinstance(data, str) else PDF
        return {"content": body, "headers": {"content-type": media_type}}
    return {}


def body_text(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/pdf"):
        try:
            return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        except Exception as exc:  # an unreadable PDF is itself worth reporting
            return f"unreadable PDF: {exc}"
    return response.text


class Sweep:
    def __init__(self, client: httpx.AsyncClient, document: dict[str, Any], world: SweepWorld) -> None:
        self.client, self.document, self.world = client, document, world
        self.callers = [ANONYMOUS, *world.users]
        self.found = Findings()
        self._nothing: dict[tuple[str, str], tuple[int, str | None]] = {}
        self.gate = asyncio.Semaphore(4)
        self.forbidden_contacts = {
            caller: _forbidden_contacts(world, caller)
            for caller, user in world.users.items()
            if user.role.value == "manager"
        }

    async def call(self, op: Operation, caller: str, ids: dict[str, str]) -> httpx.Response:
        kwargs = request_body(self.document, op)
        headers = {**kwargs.pop("headers", {}), **self.world.headers.get(caller, {})}
        async with self.gate:
            response = await self.client.request(
                op.method.upper(), op.url(ids), params=op.query(), headers=headers, **kwargs
            )
            self.client.cookies.clear()  # each call carries only its caller's credentials
        self.found.calls += 1
        self.found.statuses[response.status_code] += 1
        if str(response.status_code) not in op.spec["responses"]:
            self.found.undocumented.append(
                f"{op.name} as {caller}: {response.status_code} {response.text[:150]}"
            )
        if response.is_success:
            self.check_leaks(op, caller, ids, body_text(response))
        return response

    def check_leaks(self, op: Operation, caller: str, ids: dict[str, str], text: str) -> None:
        where = f"{op.name} as {caller} with {ids or 'no ids'}"
        for record in self.world.records:
            if caller not in record.reach:
                for marker in record.markers:
                    if marker in text:
                        self.found.leaks.append(f"{where}: shows {marker!r} of the {record.name}")
        shown = sorted(v for v in self.forbidden_contacts.get(caller, ()) if v in text)
        if shown:
            self.found.leaks.append(
                f"{where}: a manager is shown contact details of employees on referrals they did not "
                f"make: {shown}"
            )

    async def nothing(self, op: Operation, caller: str) -> tuple[int, str | None]:
        """The answer for ids that exist nowhere (once per operation and caller)."""
        if (op.name, caller) not in self._nothing:
            response = await self.call(op, caller, {name: str(uuid.uuid4()) for name in op.params})
            self._nothing[op.name, caller] = (response.status_code, _code(response))
        return self._nothing[op.name, caller]

    async def sweep(self, op: Operation, record: Record) -> None:
        """Reads as every caller; writes as every caller outside the record's reach (a write that is
        allowed would change the world under the rest of the sweep: the Schemathesis run covers those)."""
        callers = [c for c in self.callers if op.method == "get" or c not in record.reach]
        await asyncio.gather(*(self.nothing(op, caller) for caller in callers))
        await asyncio.gather(*(self.sweep_as(op, record, caller) for caller in callers))

    async def sweep_as(self, op: Operation, record: Record, caller: str) -> None:
        ids = {name: record.ids[name] for name in op.params}
        response = await self.call(op, caller, ids)
        if caller not in record.reach:
            expected = await self.nothing(op, caller)
            if (response.status_code, _code(response)) != expected:
                self.found.not_like_nothing.append(
                    f"{op.name} on the {record.name} {ids}, as callers outside its reach: "
                    f"{response.status_code} {_code(response)} (for a missing record {expected[0]} "
                    f"{expected[1]}) as: {caller}"
                )

    def targets(self, op: Operation) -> list[Record]:
        """Records with ids for every path parameter, once per distinct set of ids."""
        found: dict[tuple[str, ...], Record] = {}
        for record in self.world.records:
            if set(op.params) <= set(record.ids):
                found.setdefault(tuple(record.ids[p] for p in op.params), record)
        return list(found.values())


def _grouped(findings: list[str]) -> list[str]:
    """One line per answer, naming every caller who got it."""
    callers: dict[str, list[str]] = {}
    for finding in findings:
        what, caller = finding.rsplit(" as: ", 1)
        callers.setdefault(what, []).append(caller)
    return [f"{what} as {len(names)}: {', '.join(sorted(names))}" for what, names in callers.items()]


def _forbidden_contacts(world: SweepWorld, manager: str) -> frozenset[str]:
    """Contact details on referrals this manager did not make (less any they gave on their own)."""
    theirs = {v for c in world.contacts if c.referrer == manager for v in c.values}
    return frozenset(v for c in world.contacts if c.referrer != manager for v in c.values) - theirs


def _code(response: httpx.Response) -> str | None:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        code: str | None = response.json().get("code")
        return code
    return None


@pytest.mark.timeout(600)
async def test_every_operation_as_every_role_on_every_record(conn: asyncpg.Connection, db_dsn: str) -> None:
    """The server runs in its own process (this one generates the calls and reads the answers)."""
    async with app_process(db_dsn) as (url, _process), httpx.AsyncClient(base_url=url, timeout=30) as client:
        await _sweep_all(client, conn)


async def _sweep_all(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    started = time.monotonic()
    world = await build(client, conn)
    built = time.monotonic() - started
    document = (await client.get("/openapi.json")).json()
    sweep = Sweep(client, document, world)
    swept, lists, no_records = [], [], []
    for op in operations(document):
        if not op.params:
            if op.method == "get":
                lists.append(op.name)
                await asyncio.gather(*(sweep.call(op, caller, {}) for caller in sweep.callers))
            continue
        targets = sweep.targets(op)
        if not targets:
            no_records.append(f"{op.name}: no records for {op.params}")
            continue
        swept.append(op.name)
        for record in targets:
            await sweep.sweep(op, record)
    found = sweep.found
    print(
        f"\nauthorisation sweep: {len(swept)} operations with path parameters and {len(lists)} lists, "
        f"{len(sweep.callers)} callers ({len(world.users)} users of 2 tenants and anonymous), "
        f"{len(world.records)} records, {found.calls} calls in {time.monotonic() - started:.0f} s "
        f"(world {built:.0f} s); statuses {dict(sorted(found.statuses.items()))}\n"
        f"found: leaks {len(found.leaks)}, refusals unlike a missing record {len(found.not_like_nothing)}, "
        f"undocumented statuses {len(found.undocumented)}"
    )
    for title, items in (
        ("leaks", found.leaks),
        ("refusals unlike a missing record", _grouped(found.not_like_nothing)),
        ("undocumented statuses", found.undocumented),
    ):
        for item in items[:200]:
            print(f"  {title}: {item}")
    assert not no_records, no_records
    assert len(swept) >= 40, swept
    assert found.calls > 3000, found.calls
    problems = len(found.leaks) + len(found.not_like_nothing) + len(found.undocumented)
    assert problems == 0, (
        f"{len(found.leaks)} leaks, {len(found.not_like_nothing)} refusals unlike a missing record, "
        f"{len(found.undocumented)} undocumented statuses (listed above)"
    )
