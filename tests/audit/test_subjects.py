"""The audit helper cannot be called without saying whom a record is about."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from backend.audit import service as audit
from backend.audit.schemas import Actor, NoSubject, Subject

ACTOR = Actor(id=None, role="system", organisation_id=None)


async def _rows(conn: asyncpg.Connection, action: str) -> list[tuple[str | None, object, str | None]]:
    found = await conn.fetch(
        "SELECT entity_id, subject_user_id, subject_email FROM audit_event WHERE action = $1 ORDER BY id",
        action,
    )
    return [(r["entity_id"], r["subject_user_id"], r["subject_email"]) for r in found]


async def test_a_row_without_a_subject_is_refused(conn: asyncpg.Connection) -> None:
    with pytest.raises(TypeError, match="names its subject"):
        await audit.record(conn, ACTOR, "x.read", "referral", uuid4())  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="not both"):
        await audit.record(  # type: ignore[call-overload]
            conn, ACTOR, "x.read", "referral", uuid4(), subject=NoSubject, subject_email="a@b.example"
        )
    with pytest.raises(ValueError, match="names a user id or an e-mail"):
        Subject(email="  ")
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == 0


async def test_subjects_old_keywords_and_nobody(conn: asyncpg.Connection) -> None:
    person, record_id = uuid4(), uuid4()
    await audit.record(
        conn, ACTOR, "a.read", "referral", record_id, subject=Subject(person, "Alex@Employer.Example")
    )
    await audit.record(conn, ACTOR, "b.read", "referral", record_id, subject_user_id=person)
    await audit.record(conn, ACTOR, "c.read", "hs_programme", record_id, subject=NoSubject)
    assert await _rows(conn, "a.read") == [(str(record_id), person, "alex@employer.example")]
    assert await _rows(conn, "b.read") == [(str(record_id), person, None)]
    assert await _rows(conn, "c.read") == [(str(record_id), None, None)]


async def test_a_list_read_writes_one_row_per_record_listed(conn: asyncpg.Connection) -> None:
    one, two = uuid4(), uuid4()
    await audit.record_each(
        conn,
        ACTOR,
        "x.list",
        "referral",
        [(one, Subject(email="a@employer.example")), (two, Subject(user_id=one))],
    )
    assert await _rows(conn, "x.list") == [(str(one), None, "a@employer.example"), (str(two), one, None)]
    await audit.record_each(conn, ACTOR, "y.list", "referral", [])
    assert await _rows(conn, "y.list") == [(None, None, None)]  # the empty list is audited too


async def test_a_list_may_hold_a_record_about_nobody_yet(conn: asyncpg.Connection) -> None:
    draft, named = uuid4(), uuid4()
    await audit.record_each(
        conn, ACTOR, "z.list", "referral", [(draft, NoSubject), (named, Subject(email="b@employer.example"))]
    )
    assert await _rows(conn, "z.list") == [(str(draft), None, None), (str(named), None, "b@employer.example")]
