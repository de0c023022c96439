"""SQL for issued documents, and the read-only aggregations behind the employer report."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.reports.aggregate import ReferralQuarter
from backend.reports.schemas import StoredDocument

_DOCUMENT_COLUMNS = "id, kind, issued_at, sha256, content_sha256, data"

INSERT_DOCUMENT = """
INSERT INTO document (id, kind, entity, entity_id, organisation_id, issued_at, issued_by, sha256,
                      content_sha256,                      size_bytes, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT DO NOTHING
RETURNING id, kind, issued_at, sha256, content_sha256, data
"""
STORED_FOR = (
    f"SELECT {_DOCUMENT_COLUMNS} FROM document WHERE entity_id = $1 AND kind = $2 ORDER BY issued_at LIMIT 1"
)
GET_DOCUMENT = f"SELECT {_DOCUMENT_COLUMNS} FROM document WHERE id = $1"
# A document is seen by users of the organisation it concerns and of that organisation's provider.
GET_DOCUMENT_IN_SCOPE = """
SELECT d.id, d.kind, d.issued_at, d.sha256, d.content_sha256, NULL::bytea AS data
FROM document d JOIN organisation o ON o.id = d.organisation_id
WHERE d.id = $1 AND (d.organisation_id = $2 OR o.provider_id = $2)
"""


async def insert_document(conn: asyncpg.Connection, **f: Any) -> StoredDocument | None:
    """Insert; None when a document of this kind already exists for a result (stored once)."""
    row = await conn.fetchrow(
        INSERT_DOCUMENT,
        f["id"],
        f["kind"],
        f["entity"],
        f["entity_id"],
        f["organisation_id"],
        f["issued_at"],
        f["issued_by"],
        f["sha256"],
        f["content_sha256"],
        len(f["data"]),
        f["data"] if f["store"] else None,
    )
    return StoredDocument.model_validate(dict(row)) if row else None


async def stored_for(conn: asyncpg.Connection, entity_id: UUID, kind: str) -> StoredDocument | None:
    row = await conn.fetchrow(STORED_FOR, entity_id, kind)
    return StoredDocument.model_validate(dict(row)) if row else None


async def get_document(conn: asyncpg.Connection, document_id: UUID) -> StoredDocument | None:
    row = await conn.fetchrow(GET_DOCUMENT, document_id)
    return StoredDocument.model_validate(dict(row)) if row else None


async def get_document_in_scope(
    conn: asyncpg.Connection, document_id: UUID, organisation_id: UUID
) -> StoredDocument | None:
    """The document (without its bytes) if it concerns this organisation or one it provides for."""
    row = await conn.fetchrow(GET_DOCUMENT_IN_SCOPE, document_id, organisation_id)
    return StoredDocument.model_validate(dict(row)) if row else None


# ---- Referral figures for the employer report (unsuppressed; aggregate.build suppresses them) ----

REFERRALS_SUBMITTED = """
SELECT date_trunc('quarter', r.submitted_at AT TIME ZONE 'UTC')::date AS quarter, count(*) AS n
FROM referral r
WHERE r.organisation_id = $1 AND r.submitted_at >= $2 AND r.submitted_at < $3
GROUP BY 1
"""
REFERRALS_WITH_EVENT = """
SELECT date_trunc('quarter', e.at AT TIME ZONE 'UTC')::date AS quarter, count(DISTINCT e.referral_id) AS n
FROM referral_event e JOIN referral r ON r.id = e.referral_id
WHERE r.organisation_id = $1 AND e.action = $4 AND e.at >= $2 AND e.at < $3
GROUP BY 1
"""
# Days from one event to the next given one on the same referral, by the quarter of the first.
EVENT_INTERVALS = """
SELECT date_trunc('quarter', a.at AT TIME ZONE 'UTC')::date AS quarter, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM b.at - a.at) / 86400.0) AS median_days
FROM referral r
CROSS JOIN LATERAL (SELECT min(e.at) AS at FROM referral_event e
                    WHERE e.referral_id = r.id AND e.action = $4) a
CROSS JOIN LATERAL (SELECT min(e.at) AS at FROM referral_event e
                    WHERE e.referral_id = r.id AND e.action = $5 AND e.at >= a.at) b
WHERE r.organisation_id = $1 AND a.at >= $2 AND a.at < $3 AND b.at IS NOT NULL
GROUP BY 1
"""
ORGANISATION_NAME = "SELECT name FROM organisation WHERE id = $1 AND kind = 'employer'"


async def organisation_name(conn: asyncpg.Connection, organisation_id: UUID) -> str | None:
    name: str | None = await conn.fetchval(ORGANISATION_NAME, organisation_id)
    return name


async def referral_quarters(
    conn: asyncpg.Connection, organisation_id: UUID, start: datetime, end: datetime
) -> list[ReferralQuarter]:
    submitted = {
        r["quarter"]: int(r["n"]) for r in await conn.fetch(REFERRALS_SUBMITTED, organisation_id, start, end)
    }
    released = {
        r["quarter"]: int(r["n"])
        for r in await conn.fetch(REFERRALS_WITH_EVENT, organisation_id, start, end, "release")
    }
    triage = {
        r["quarter"]: r
        for r in await conn.fetch(EVENT_INTERVALS, organisation_id, start, end, "submit", "triage")
    }
    release = {
        r["quarter"]: r
        for r in await conn.fetch(
            EVENT_INTERVALS, organisation_id, start, end, "finish_consultation", "release"
        )
    }
    quarters = set(submitted) | set(released) | set(triage) | set(release)
    return [
        ReferralQuarter(
            quarter=q,
            submitted=submitted.get(q, 0),
            released=released.get(q, 0),
            triage_n=int(triage[q]["n"]) if q in triage else 0,
            triage_median_days=triage[q]["median_days"] if q in triage else None,
            release_n=int(release[q]["n"]) if q in release else 0,
            release_median_days=release[q]["median_days"] if q in release else None,
        )
        for q in sorted(quarters)
    ]


# ---- Management referral reports ----

GET_REPORT = """
SELECT m.referral_id, m.author_id, coalesce(nullif(u.full_name, ''), u.email) AS author_name, m.content,
       m.consent,
       m.version
FROM mr_report m JOIN app_user u ON u.id = m.author_id WHERE m.referral_id = $1
"""
LOCK_REPORT = GET_REPORT + " FOR UPDATE OF m"
UPSERT_CONTENT = """
INSERT INTO mr_report (referral_id, author_id, content, consent) VALUES ($1, $2, $3, 'null'::jsonb)
ON CONFLICT (referral_id) DO UPDATE
SET content = EXCLUDED.content, author_id = EXCLUDED.author_id, version = mr_report.version + 1,
    updated_at = now()
RETURNING version
"""
UPSERT_CONSENT = """
INSERT INTO mr_report (referral_id, author_id, content, consent) VALUES ($1, $2, '{}'::jsonb, $3)
ON CONFLICT (referral_id) DO UPDATE
SET consent = EXCLUDED.consent, version = mr_report.version + 1, updated_at = now()
RETURNING version
"""
INSERT_VERSION = """
INSERT INTO mr_report_version (referral_id, version, kind, content, consent, recipients, actor_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
LATEST_RELEASED = """
SELECT version, content, consent, recipients, at FROM mr_report_version
WHERE referral_id = $1 AND kind = 'released' ORDER BY id DESC LIMIT 1
"""
ADDENDA = """
SELECT content->>'text' AS text, at FROM mr_report_version
WHERE referral_id = $1 AND kind = 'addendum' ORDER BY id
"""
INSERT_CORRECTION = (
    "INSERT INTO mr_correction (referral_id, employee_id, section, message) VALUES ($1, $2, $3, $4)"
)
LIST_CORRECTIONS = """
SELECT section, message, created_at FROM mr_correction WHERE referral_id = $1 ORDER BY created_at, id
"""


async def get_report(
    conn: asyncpg.Connection, referral_id: UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    row = await conn.fetchrow(LOCK_REPORT if lock else GET_REPORT, referral_id)
    return dict(row) if row else None


async def save_content(
    conn: asyncpg.Connection, referral_id: UUID, author_id: UUID, content: dict[str, Any]
) -> int:
    version: int = await conn.fetchval(UPSERT_CONTENT, referral_id, author_id, content)
    return version


async def save_consent(
    conn: asyncpg.Connection, referral_id: UUID, author_id: UUID, consent: dict[str, Any]
) -> int:
    version: int = await conn.fetchval(UPSERT_CONSENT, referral_id, author_id, consent)
    return version


async def insert_version(
    conn: asyncpg.Connection, referral_id: UUID, version: int, kind: str, **f: Any
) -> None:
    await conn.execute(
        INSERT_VERSION,
        referral_id,
        version,
        kind,
        f["content"],
        f["consent"],
        f.get("recipients", []),
        f["actor_id"],
    )


async def latest_released(conn: asyncpg.Connection, referral_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(LATEST_RELEASED, referral_id)
    return dict(row) if row else None


async def addenda(conn: asyncpg.Connection, referral_id: UUID) -> list[tuple[str, datetime]]:
    return [(r["text"], r["at"]) for r in await conn.fetch(ADDENDA, referral_id)]


async def insert_correction(
    conn: asyncpg.Connection, referral_id: UUID, employee_id: UUID, section: str, message: str
) -> None:
    await conn.execute(INSERT_CORRECTION, referral_id, employee_id, section, message)


async def corrections(conn: asyncpg.Connection, referral_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(LIST_CORRECTIONS, referral_id)]


# The employee's own referrals whose report has reached them (review onwards), newest first.
MY_REPORTS = """
SELECT r.id AS referral_id, o.name AS organisation_name, r.submitted_at, r.status,
       (SELECT max(e.at) FROM referral_event e
         WHERE e.referral_id = r.id AND e.to_status = 'EMPLOYEE_REVIEW') AS review_since,
       (SELECT max(e.at) FROM referral_event e
         WHERE e.referral_id = r.id AND e.to_status = 'RELEASED' AND e.action = 'release') AS released_at
FROM referral r JOIN organisation o ON o.id = r.organisation_id
WHERE r.employee_user_id = $1 AND r.status = ANY($2::text[])
ORDER BY r.updated_at DESC, r.id
LIMIT 100
"""


async def my_reports(
    conn: asyncpg.Connection, employee_id: UUID, statuses: list[str]
) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(MY_REPORTS, employee_id, statuses)]
