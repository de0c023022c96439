"""The store statement takes JSON records whose field names are the columns they fill: every
field of each part names a column of its table (a misspelt or moved field cannot land in another
column), the statement has no other parameters than the records and the streams' ids, and its plan
finds each stream by its primary key however many streams there are."""

from __future__ import annotations

import re

import asyncpg
import httpx
from pydantic import BaseModel

from backend.audit.schemas import NoSubject
from backend.audit.service import event_record, event_values
from backend.core.config import Settings
from backend.db import scope
from backend.readings.queries import STORE_BATCHES, STREAM_FOR_BATCH
from backend.readings.schemas import AlertInsert, BatchInsert, ReadingInsert, SummaryUpdate
from tests.factories import login, make_world
from tests.readings.helpers import start_stream

PARTS: list[tuple[type[BaseModel], str]] = [
    (SummaryUpdate, "reading_stream"),
    (BatchInsert, "reading_batch"),
    (ReadingInsert, "reading"),
    (AlertInsert, "reading_alert"),
]


async def _columns(conn: asyncpg.Connection, table: str) -> set[str]:
    rows = await conn.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
    return {r["column_name"] for r in rows}


async def test_every_field_of_the_record_is_a_column_of_its_table(conn: asyncpg.Connection) -> None:
    for model, table in PARTS:
        columns = await _columns(conn, table)
        assert set(model.model_fields) <= columns, (model.__name__, set(model.model_fields) - columns)
        for name in model.model_fields:  # each field is picked by its name in the statement
            assert re.search(rf"\b[a-z]\.{name}\b", STORE_BATCHES), (table, name)
    audit = event_record(event_values(None, "readings.batch.ingest", "reading_stream", subject=NoSubject))
    columns = await _columns(conn, "audit_event")
    assert set(audit) <= columns, set(audit) - columns
    for name in audit:
        assert re.search(rf"\be\.{name}\b", STORE_BATCHES), ("audit_event", name)


def test_the_statement_binds_the_records_and_the_streams_only() -> None:
    assert {int(n) for n in re.findall(r"\$(\d+)", STORE_BATCHES)} == {1, 2}


async def _generic_plan(conn: asyncpg.Connection, statement: str, arguments: str) -> str:
    """The plan PostgreSQL keeps for ``statement`` once prepared (as asyncpg prepares it), for the
    application role with every organisation in scope."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {Settings().db_app_role}")
        await conn.execute(f"SET LOCAL {scope.SETTING} = '{scope.EVERY}'")
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE planned AS {statement}")
        try:
            rows = await conn.fetch(f"EXPLAIN EXECUTE planned({arguments})")
        finally:
            await conn.execute("DEALLOCATE planned")
    return "\n".join(r[0] for r in rows)


async def test_each_batch_finds_its_stream_by_primary_key_among_many(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """With thousands of ended measurements kept, storing a batch still touches its own stream
    only (a scan of every stream would make each batch dearer as the table grows)."""
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    await start_stream(client, employee, "camera")
    await conn.execute(
        """INSERT INTO reading_stream (id, employee_id, employer_id, provider_id, consent_id, device_kind,
                                       device_model, status, closed_at)
           SELECT gen_random_uuid(), employee_id, employer_id, provider_id, consent_id, device_kind,
                  device_model, 'closed', now()
           FROM reading_stream, generate_series(1, 5000)"""
    )
    await conn.execute("ANALYZE reading_stream")
    some = "'00000000-0000-0000-0000-000000000000'"
    for statement, arguments in [
        (STORE_BATCHES, f"'[]', ARRAY[{some}]::uuid[]"),
        (STREAM_FOR_BATCH, f"{some}, 5, NULL, 11"),
    ]:
        plan = await _generic_plan(conn, statement, arguments)
        assert "Seq Scan on reading_stream" not in plan, plan
        by_key = re.search(
            r"Index Scan using reading_stream_pkey on reading_stream s "
            r"|Bitmap Heap Scan on reading_stream s .*?Bitmap Index Scan on reading_stream_pkey",
            plan,
            re.DOTALL,
        )
        assert by_key, plan
