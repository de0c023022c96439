"""The store statement takes one JSON record whose field names are the columns it fills: every
field of each part names a column of its table (a misspelt or moved field cannot land in another
column), and the statement has no other parameters than the record, the audit row and the event."""

from __future__ import annotations

import re

import asyncpg
from pydantic import BaseModel

from backend.audit.schemas import NoSubject
from backend.audit.service import event_values
from backend.readings.queries import STORE_BATCH
from backend.readings.schemas import AlertInsert, BatchInsert, ReadingInsert, SummaryUpdate

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
            assert re.search(rf"\b[a-z]\.{name}\b", STORE_BATCH), (table, name)


def test_the_statement_binds_the_record_the_audit_row_and_the_event_only() -> None:
    params = {int(n) for n in re.findall(r"\$(\d+)", STORE_BATCH)}
    audit = len(event_values(None, "readings.batch.ingest", "reading_stream", subject=NoSubject))
    assert params == set(range(1, 1 + 1 + audit + 2))
