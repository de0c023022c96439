"""Referral attachments: type by content, size limits, the virus-scan hook, downloads, audit."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import zipfile
import zlib
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.factories import login, make_referral, make_world

MB = 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf(size: int = 0) -> bytes:
    """A minimal PDF, padded with a comment to exactly ``size`` bytes when given."""
    head, tail = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n", b"%%EOF\n"
    if not size:
        return head + tail
    return head + b"%" + b"x" * (size - len(head) - len(tail) - 2) + b"\n" + tail


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
    )


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx() -> bytes:
    return zipped(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
            "word/document.xml": '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Job description</w:t></w:r></w:p>'
            "</w:body></w:document>",
        }
    )


def exe() -> bytes:
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 44
        + b"\x80\x00\x00\x00"
        + b"This program cannot be run in DOS mode.\r\r\n$"
        + b"\x00" * 64
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    referral_id: str,
    data: bytes,
    filename: str = "file.pdf",
    declared: str = "application/pdf",
    kind: str = "other",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/referrals/{referral_id}/attachments",
        headers=headers,
        files={"file": (filename, data, declared)},
        data={"kind": kind},
    )


async def stored(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT referral_id, kind, filename, content_type, size_bytes, scan_status FROM referral_attachment"
        " ORDER BY created_at"
    )
    return [dict(r) for r in rows]


async def audit_count(conn: asyncpg.Connection, referral_id: str, action: str, outcome: str = "ok") -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE entity = 'referral' AND entity_id = $1 AND action = $2"
        " AND outcome = $3",
        referral_id,
        action,
        outcome,
    )
    return count


async def draft(client: httpx.AsyncClient, conn: asyncpg.Connection) -> tuple[dict[str, str], str]:
    world = await make_world(conn)
    headers = await login(client, world.users["manager"])
    return headers, (await make_referral(client, headers, submit=False))["id"]


async def test_allowed_types_are_recognised_by_content(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, referral_id = await draft(client, conn)
    # Names and declared types deliberately misleading: only the content counts.
    cases = [
        ("fit-note.bin", pdf(), "application/octet-stream", "application/pdf"),
        ("photo.jpg", png(), "image/jpeg", "image/png"),
        ("scan.png", jpeg(), "image/png", "image/jpeg"),
        ("job-description.pdf", docx(), "application/pdf", DOCX_TYPE),
    ]
    for filename, data, declared, sniffed in cases:
        response = await upload(
            client, headers, referral_id, data, filename, declared, kind="job_description"
        )
        assert response.status_code == 201, (filename, response.text)
        body = response.json()
        assert (body["content_type"], body["size_bytes"], body["filename"], body["kind"]) == (
            sniffed,
            len(data),
            filename,
            "job_description",
        )
        assert body["sha256"] == hashlib.sha256(data).hexdigest()

        download = await client.get(
            f"/api/v1/referrals/{referral_id}/attachments/{body['id']}", headers=headers
        )
        assert download.status_code == 200
        assert download.content == data, filename
        assert download.headers["content-type"].split(";")[0] == sniffed
        assert download.headers["content-disposition"].startswith("attachment;")
    listed = await client.get(f"/api/v1/referrals/{referral_id}/attachments", headers=headers)
    assert [a["filename"] for a in listed.json()] == [c[0] for c in cases]
    assert [a["content_type"] for a in await stored(conn)] == [c[3] for c in cases]
    assert {a["scan_status"] for a in await stored(conn)} == {"not_scanned"}  # no scanner configured
    assert await audit_count(conn, referral_id, "referral.attachment.add") == len(cases)
    assert await audit_count(conn, referral_id, "referral.attachment.read") == len(cases)
    assert await audit_count(conn, referral_id, "referral.attachments.read") == 1


async def test_other_content_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, referral_id = await draft(client, conn)
    cases = [
        ("setup.pdf", exe(), "application/pdf"),
        (
            "letter.pdf",
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
            "application/pdf",
        ),
        ("archive.docx", zipped({"readme.txt": "not a word document"}), DOCX_TYPE),
        ("half.docx", zipped({"[Content_Types].xml": "<Types/>"}), DOCX_TYPE),
        ("empty.pdf", b"", "application/pdf"),
        ("notes.pdf", b"Just some plain text that claims to be a PDF.", "application/pdf"),
        ("truncated.pdf", b"%PD", "application/pdf"),
    ]
    for filename, data, declared in cases:
        response = await upload(client, headers, referral_id, data, filename, declared)
        assert response.status_code == 422, (filename, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["file"], filename
    assert await stored(conn) == []
    assert await audit_count(conn, referral_id, "referral.attachment.add") == 0
    assert await audit_count(conn, referral_id, "referral.attachment.add", "invalid") == len(cases)


async def test_unknown_kind_is_refused(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    headers, referral_id = await draft(client, conn)
    response = await upload(client, headers, referral_id, pdf(), kind="selfie")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["kind"]
    assert await stored(conn) == []


async def test_a_file_over_10_mb_is_refused(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    headers, referral_id = await draft(client, conn)
    too_big = await upload(client, headers, referral_id, pdf(10 * MB + 1))
    assert too_big.status_code == 413, too_big.text
    assert await stored(conn) == []
    assert await audit_count(conn, referral_id, "referral.attachment.add", "invalid") == 1
    exactly = await upload(client, headers, referral_id, pdf(10 * MB))
    assert exactly.status_code == 201, exactly.text
    assert [a["size_bytes"] for a in await stored(conn)] == [10 * MB]


async def test_a_referral_holds_at_most_25_mb(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    headers, referral_id = await draft(client, conn)
    sizes = [9 * MB, 9 * MB - 1, 9 * MB - 2]  # distinct, so each is a different file
    codes = [
        (await upload(client, headers, referral_id, pdf(size), f"part{i}.pdf")).status_code
        for i, size in enumerate(sizes)
    ]
    assert codes == [201, 201, 413]
    assert [a["size_bytes"] for a in await stored(conn)] == sizes[:2]
    # The limit is per referral: another referral still takes a file.
    other = (await make_referral(client, headers, submit=False))["id"]
    assert (await upload(client, headers, other, pdf(9 * MB))).status_code == 201


async def test_concurrent_uploads_cannot_exceed_the_referral_total(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """While another upload to the same referral is being stored, the next one waits and then counts it."""
    headers, referral_id = await draft(client, conn)
    async with conn.transaction():
        # What a concurrent upload does: lock the referral, then add 20 MB (committed only later).
        await conn.execute("SELECT 1 FROM referral WHERE id = $1 FOR UPDATE", UUID(referral_id))
        await conn.execute(
            """INSERT INTO referral_attachment
                   (referral_id, kind, filename, content_type, size_bytes, sha256, data, uploaded_by)
               SELECT id, 'other', 'big.pdf', 'application/pdf', $2, 'x', '\\x00', referrer_id
               FROM referral WHERE id = $1""",
            UUID(referral_id),
            20 * MB,
        )
        pending = asyncio.create_task(upload(client, headers, referral_id, pdf(9 * MB)))
        await asyncio.sleep(1.0)
    response = await pending
    assert response.status_code == 413, response.text
    assert [a["filename"] for a in await stored(conn)] == ["big.pdf"]


async def test_files_only_while_the_referral_is_editable(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    clinician = await login(client, world.users["clinician"])
    referral_id = (await make_referral(client, manager))["id"]
    assert (await upload(client, manager, referral_id, pdf())).status_code == 409  # AWAITING_TRIAGE
    assert (await upload(client, clinician, referral_id, pdf())).status_code == 403
    asked = await client.post(
        f"/api/v1/referrals/{referral_id}/transitions",
        headers=clinician,
        json={"action": "request_info", "message": "Please attach the absence record."},
    )
    assert asked.status_code == 200, asked.text
    answer = await upload(client, manager, referral_id, pdf(), "absence.pdf", kind="absence_record")
    assert answer.status_code == 201, answer.text
    assert [a["filename"] for a in await stored(conn)] == ["absence.pdf"]
    # Occupational health can read it.
    read = await client.get(
        f"/api/v1/referrals/{referral_id}/attachments/{answer.json()['id']}", headers=clinician
    )
    assert read.content == pdf()
    missing = await client.get(
        f"/api/v1/referrals/{referral_id}/attachments/{UUID(int=1)}", headers=clinician
    )
    assert missing.status_code == 404


async def test_control_characters_in_a_filename_are_not_stored(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, referral_id = await draft(client, conn)
    boundary = "ohconnect-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="fit\x00note\x1b.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await client.post(
        f"/api/v1/referrals/{referral_id}/attachments",
        content=body,
        headers={**headers, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "fitnote.pdf"
    assert [a["filename"] for a in await stored(conn)] == ["fitnote.pdf"]


# The scanner gets the file on stdin; exit 1 means infected (note: grep -q exits 1 when NOT found).
SCAN_COMMAND = "sh -c 'grep -q EICAR-MARKER && exit 1 || exit 0'"


class TestVirusScanHook:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"attachment_scan_command": SCAN_COMMAND}

    async def test_infected_refused_clean_stored(
        self, client: httpx.AsyncClient, conn: asyncpg.Connection
    ) -> None:
        headers, referral_id = await draft(client, conn)
        infected = pdf() + b"% EICAR-MARKER\n"
        refused = await upload(client, headers, referral_id, infected, "infected.pdf")
        assert refused.status_code == 422, refused.text
        assert [(e["field"], e["type"]) for e in refused.json()["errors"]] == [("file", "infected")]
        assert await stored(conn) == []

        clean = await upload(client, headers, referral_id, pdf(), "clean.pdf")
        assert clean.status_code == 201, clean.text
        rows = await stored(conn)
        assert [(a["filename"], a["scan_status"]) for a in rows] == [("clean.pdf", "clean")]
