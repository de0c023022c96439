"""Readings use-cases: consent to collection (C6), streams, reads, FHIR export, live view lookups.

Each public function owns its transaction and writes its audit rows in it; refusals are audited
after the rollback. Readings are clinical data: only the employee and the clinicians of the
employee's provider see them; everybody else gets 404. Batch ingestion is in ``ingest``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Actor, NoSubject, Outcome, Subject
from backend.auth.schemas import Role, User
from backend.auth.tokens import new_token, token_hash
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.errors import Unauthenticated
from backend.core.listing import ListParams
from backend.db import pubsub
from backend.readings import alerts, fhir, queries
from backend.readings.errors import (
    ConsentRequired,
    ReadingsForbidden,
    StatementOutdated,
    StreamClosed,
    StreamNotFound,
)
from backend.readings.queries import Scope
from backend.readings.schemas import (
    AlertRow,
    Consent,
    ConsentCreate,
    ConsentStatus,
    LiveEvent,
    ReadingOut,
    StreamCreate,
    StreamCreated,
    StreamPage,
    StreamRow,
    StreamSummary,
)
from backend.readings.statement import STATEMENT, STATEMENT_SHA256
from sensors.signal_quality import quality_word

DEVICE_TOKEN_PREFIX = "ohd_"  # noqa: S105 - a prefix telling device tokens from session tokens
MAX_READINGS = 20_000
DEVICE_REFUSED = "This measurement's device token has expired or was withdrawn; start again."


@dataclass(frozen=True)
class Writer:
    """Who sends a batch: the signed-in employee, or a device token minted for one stream."""

    user: User | None = None
    device_token_hash: bytes | None = None  # checked against the stream when it is used


def channel(stream_id: UUID) -> str:
    """The LISTEN/NOTIFY channel of one stream's live events."""
    return f"readings_{stream_id.hex}"


def scope_for(user: User) -> Scope:
    kind = {Role.clinician: "clinician", Role.employee: "employee"}.get(user.role, "none")
    return Scope(kind, user.organisation_id, user.id)


def device_actor(stream: StreamRow) -> Actor:
    """A device token acts for the employee whose stream it is."""
    return Actor(id=stream.employee_id, role="device", organisation_id=stream.employer_id)


async def record(
    conn: asyncpg.Connection,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: UUID | None,
    *,
    subject: UUID,
    outcome: Outcome = "ok",
) -> None:
    """Audit an access to the readings of the employee ``subject``."""
    await audit.record(
        conn, actor, action, entity, entity_id, outcome=outcome, subject=Subject(user_id=subject)
    )


def audit_event(actor: Actor, action: str, row: StreamRow) -> dict[str, object]:
    """The audit event of an access to one stream's readings, naming the employee they are about
    (by column name)."""
    values = audit.event_values(
        actor, action, "reading_stream", row.id, subject=Subject(user_id=row.employee_id)
    )
    return audit.event_record(values)


async def record_stream(conn: asyncpg.Connection, actor: Actor, action: str, row: StreamRow) -> None:
    """Audit an access to one stream's readings, naming the employee they are about."""
    await record(conn, actor, action, "reading_stream", row.id, subject=row.employee_id)


@asynccontextmanager
async def audited_refusals(
    conn: asyncpg.Connection, actor: Actor, action: str, entity: str, entity_id: UUID | None
) -> AsyncIterator[None]:
    """Audit a refusal raised inside (after any transaction inside has rolled back), then re-raise."""
    try:
        yield
    except (StreamNotFound, ReadingsForbidden, ConsentRequired, StreamClosed) as refused:
        outcome: Outcome = "not_found" if isinstance(refused, StreamNotFound) else "denied"
        await audit.refused(conn, actor, action, entity, entity_id, outcome=outcome, subject=NoSubject)
        raise


@asynccontextmanager
async def use_case(
    conn: asyncpg.Connection, actor: Actor, action: str, entity: str, entity_id: UUID | None
) -> AsyncIterator[None]:
    """One transaction for one use-case; refusals are audited after the rollback."""
    async with audited_refusals(conn, actor, action, entity, entity_id), conn.transaction():
        yield


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 2) if count else None


def summarise(row: StreamRow, alert_rows: Sequence[AlertRow], min_readings: int) -> StreamSummary:
    flags = alerts.flags(alert_rows, min_readings)
    duration = None
    if row.first_offset_s is not None and row.last_offset_s is not None:
        duration = round(row.last_offset_s - row.first_offset_s, 3)
    return StreamSummary(
        **row.model_dump(include=set(StreamSummary.model_fields) & set(StreamRow.model_fields)),
        values_absent=row.absent,
        heart_rate_mean_bpm=_mean(row.hr_sum, row.hr_count),
        heart_rate_min_bpm=row.hr_min,
        heart_rate_max_bpm=row.hr_max,
        spo2_mean_pct=_mean(row.spo2_sum, row.spo2_count),
        spo2_min_pct=row.spo2_min,
        quality=_mean(row.quality_sum, row.quality_count),
        quality_word=quality_word(row.last_quality),
        duration_s=duration,
        alert_level=alerts.stream_level(flags),
        alerts=flags,
    )


async def _summaries(
    conn: asyncpg.Connection, rows: Sequence[StreamRow], settings: Settings
) -> list[StreamSummary]:
    found = await queries.list_alerts(conn, [r.id for r in rows]) if rows else []
    by_stream: dict[UUID, list[AlertRow]] = {}
    for a in found:
        by_stream.setdefault(a.stream_id, []).append(a)
    return [summarise(r, by_stream.get(r.id, []), settings.readings_alert_min_readings) for r in rows]


# -- consent ------------------------------------------------------------------------------------


def _require_employee(user: User) -> None:
    if user.role != Role.employee:
        raise ReadingsForbidden("Only the employee measuring can give or withdraw this consent.")


async def consent_status(conn: asyncpg.Connection, user: User) -> ConsentStatus:
    _require_employee(user)
    async with conn.transaction():
        row = await queries.get_active_consent(conn, user.id)
        consent_id = row.id if row else None
        await record(
            conn, user.actor(), "readings.consent.read", "reading_consent", consent_id, subject=user.id
        )
    return ConsentStatus(
        statement=STATEMENT, consent=Consent.model_validate(row.model_dump()) if row else None
    )


async def give_consent(conn: asyncpg.Connection, user: User, body: ConsentCreate) -> tuple[Consent, bool]:
    """The consent in force: (new, True), or the one already given (False)."""
    _require_employee(user)
    if body.statement_version != STATEMENT.version:
        raise StatementOutdated(f"Please read the current wording ({STATEMENT.version}) and agree again.")
    async with conn.transaction():
        row = await queries.insert_consent(
            conn, user.id, STATEMENT.version, STATEMENT_SHA256, body.appointment_id
        )
        created = row is not None
        row = row or await queries.get_active_consent(conn, user.id)
        if row is None:
            raise RuntimeError("consent vanished inside its own transaction")
        if created:
            await record(
                conn, user.actor(), "readings.consent.give", "reading_consent", row.id, subject=user.id
            )
    return Consent.model_validate(row.model_dump()), created


async def withdraw_consent(conn: asyncpg.Connection, user: User) -> Consent:
    """Stop collection: the consent ends, open streams close and their device tokens stop working."""
    _require_employee(user)
    async with use_case(conn, user.actor(), "readings.consent.withdraw", "reading_consent", None):
        row = await queries.withdraw_consent(conn, user.id)
        if row is None:
            raise ConsentRequired("There is no consent in force to withdraw.")
        closed = await queries.close_streams_of_consent(conn, row.id)
        await record(
            conn, user.actor(), "readings.consent.withdraw", "reading_consent", row.id, subject=user.id
        )
        for stream_id in closed:
            await pubsub.publish(conn, channel(stream_id), {"type": "closed", "stream_id": str(stream_id)})
    return Consent.model_validate(row.model_dump())


# -- streams ------------------------------------------------------------------------------------


async def create_stream(
    conn: asyncpg.Connection, user: User, body: StreamCreate, settings: Settings
) -> tuple[StreamCreated, bool]:
    """Start measuring: a stream and its write-only device token. A repeat with the same id by the
    same employee gives the stream again with a fresh token (the first answer may have been lost)."""
    _require_employee(user)
    stream_id = body.id or uuid4()
    token = DEVICE_TOKEN_PREFIX + new_token()
    expires_at = utc_now() + timedelta(hours=settings.readings_device_token_hours)
    async with use_case(conn, user.actor(), "readings.stream.create", "reading_stream", stream_id):
        consent = await queries.get_active_consent(conn, user.id)
        if consent is None:
            raise ConsentRequired("Agree to the collection of your pulse readings first.")
        created = await queries.insert_stream(
            conn,
            id=stream_id,
            employee_id=user.id,
            employer_id=user.organisation_id,
            provider_id=user.provider_id,
            consent_id=consent.id,
            appointment_id=body.appointment_id,
            device_kind=body.device.kind,
            device_model=body.device.model,
            token_hash=token_hash(token),
            token_expires_at=expires_at,
        )
        row = await queries.get_stream(conn, stream_id)
        if row is None or row.employee_id != user.id:
            raise StreamNotFound("This stream id is taken; start a new measurement.")
        if not created:
            if row.status != "open":
                raise StreamClosed("This measurement has ended; start a new one.")
            await queries.rotate_device_token(conn, stream_id, token_hash(token), expires_at)
        await record(
            conn, user.actor(), "readings.stream.create", "reading_stream", stream_id, subject=user.id
        )
        summary = (await _summaries(conn, [row], settings))[0]
    return StreamCreated(stream=summary, device_token=token, device_token_expires_at=expires_at), created


async def _visible(conn: asyncpg.Connection, user: User, stream_id: UUID) -> StreamRow:
    row = await queries.get_visible_stream(conn, stream_id, scope_for(user))
    if row is None:
        raise StreamNotFound()
    return row


async def get_stream(
    conn: asyncpg.Connection, user: User, stream_id: UUID, settings: Settings
) -> StreamSummary:
    async with use_case(conn, user.actor(), "readings.stream.read", "reading_stream", stream_id):
        row = await _visible(conn, user, stream_id)
        await record_stream(conn, user.actor(), "readings.stream.read", row)
        summary = (await _summaries(conn, [row], settings))[0]
    return summary


async def list_streams(
    conn: asyncpg.Connection,
    user: User,
    settings: Settings,
    *,
    employee_id: UUID | None,
    status: str | None,
    page: ListParams,
) -> StreamPage:
    async with conn.transaction():
        rows, total = await queries.list_visible_streams(
            conn, scope_for(user), employee_id=employee_id, status=status, page=page
        )
        await audit.record_each(
            conn, user.actor(), "readings.stream.list", "reading_stream",
            [(row.id, Subject(user_id=row.employee_id)) for row in rows],
        )  # fmt: skip
        items = await _summaries(conn, rows, settings)
    return StreamPage.of(items, total, page)


async def list_readings(
    conn: asyncpg.Connection, user: User, stream_id: UUID, *, limit: int
) -> list[ReadingOut]:
    async with use_case(conn, user.actor(), "readings.readings.read", "reading_stream", stream_id):
        row = await _visible(conn, user, stream_id)
        found = await queries.list_readings(conn, row.id, limit)
        await record_stream(conn, user.actor(), "readings.readings.read", row)
    return [ReadingOut.model_validate(r.model_dump()) for r in found]


async def close_stream(
    conn: asyncpg.Connection, writer: Writer, stream_id: UUID, settings: Settings
) -> StreamSummary:
    """The employee (or the stream's device) ends the measurement; its device token stops working."""
    actor = writer.user.actor() if writer.user else Actor(id=None, role="device", organisation_id=None)
    async with use_case(conn, actor, "readings.stream.close", "reading_stream", stream_id):
        row = await queries.get_stream(conn, stream_id)
        if writer.device_token_hash is not None and await device_token_stream(conn, writer) is None:
            raise Unauthenticated(DEVICE_REFUSED)
        if row is None or not await _writes(conn, writer, row):
            if (
                row is not None
                and writer.user is not None
                and scope_for(writer.user).kind == "clinician"
                and row.provider_id == writer.user.organisation_id
            ):
                raise ReadingsForbidden("Only the employee ends their measurement.")
            raise StreamNotFound()
        if await queries.close_stream(conn, row.id):
            await pubsub.publish(conn, channel(row.id), {"type": "closed", "stream_id": str(row.id)})
        actor = writer.user.actor() if writer.user else device_actor(row)
        await record_stream(conn, actor, "readings.stream.close", row)
        row = await queries.get_stream(conn, stream_id) or row
        summary = (await _summaries(conn, [row], settings))[0]
    return summary


async def _writes(conn: asyncpg.Connection, writer: Writer, row: StreamRow) -> bool:
    if writer.device_token_hash is not None:
        return await queries.stream_for_device_token(conn, writer.device_token_hash) == row.id
    return writer.user is not None and writer.user.id == row.employee_id


def device_token(token: str) -> Writer:
    """A writer holding a device token (checked against the stream when used)."""
    return Writer(device_token_hash=token_hash(token))


async def device_token_stream(conn: asyncpg.Connection, writer: Writer) -> UUID | None:
    """The stream the writer's device token is valid for now, if any."""
    if writer.device_token_hash is None:
        return None
    return await queries.stream_for_device_token(conn, writer.device_token_hash)


# -- FHIR and live view -------------------------------------------------------------------------


async def fhir_bundle(
    conn: asyncpg.Connection, user: User, stream_id: UUID, *, base_url: str
) -> dict[str, Any]:
    async with use_case(conn, user.actor(), "readings.fhir.export", "reading_stream", stream_id):
        row = await _visible(conn, user, stream_id)
        found = await queries.list_readings(conn, row.id, MAX_READINGS)
        runs = await queries.all_ppg_runs(conn, row.id)
        await record_stream(conn, user.actor(), "readings.fhir.export", row)
    return fhir.bundle(row, found, runs, base_url=base_url, now=utc_now())


async def watch(conn: asyncpg.Connection, user: User, stream_id: UUID, settings: Settings) -> LiveEvent:
    """Open the live view of a stream: its snapshot; audited as a read."""
    async with use_case(conn, user.actor(), "readings.live.watch", "reading_stream", stream_id):
        row = await _visible(conn, user, stream_id)
        await record_stream(conn, user.actor(), "readings.live.watch", row)
        summary = (await _summaries(conn, [row], settings))[0]
    return LiveEvent(type="snapshot", stream_id=row.id, summary=summary)


async def live_stream_for_employee(
    conn: asyncpg.Connection,
    clinician: User,
    employee_id: UUID,
    settings: Settings,
    *,
    appointment_id: UUID | None = None,
) -> StreamSummary | None:
    """For the clinic screen: the open stream the employee is measuring into, if any, when the
    caller is a clinician of the employee's provider (None otherwise). Audited as a read."""
    if clinician.role != Role.clinician:
        return None
    async with conn.transaction():
        row = await queries.live_stream_for_employee(
            conn, employee_id, clinician.organisation_id, appointment_id
        )
        if row is None:
            return None
        await record_stream(conn, clinician.actor(), "readings.stream.read", row)
        summary = (await _summaries(conn, [row], settings))[0]
    return summary
