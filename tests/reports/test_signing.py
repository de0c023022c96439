"""Issued PDFs carry a PAdES signature that pyHanko's validator accepts, a changed byte breaks it,
the verification endpoints check the signed bytes, and rendering and signing run on document
threads, never on the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from asn1crypto import x509 as asn1_x509

from backend.core.config import Settings
from backend.reports import certificate, offload, signing
from tests.conftest import Server
from tests.factories import login
from tests.reports.test_certificate import pdf_text, signed_with_restrictions
from tests.reports.test_management_report import drafting, move
from tests.signing_keys import signature_count, validate

ROOT = Path(__file__).resolve().parents[2]


def trust_root(server: Server) -> bytes:
    """The certificate this test process's server signs with (tests sign with a per-process key)."""
    return signing.load(server.settings).certificate


def tampered(data: bytes) -> bytes:
    """One byte changed inside the first signed byte range: the document's author in its Info."""
    byte_range = re.search(rb"/ByteRange \[\s*0 (\d+) (\d+) (\d+)\s*\]", data)
    assert byte_range is not None
    at = data.index(b"(ohconnect)")
    assert at < int(byte_range.group(1)), "the changed byte must be one the signature covers"
    return data[: at + 1] + b"O" + data[at + 2 :]


async def test_certificate_is_signed_valid_and_checks_by_its_final_bytes(
    client: httpx.AsyncClient, conn, server: Server
):
    world, signed = await signed_with_restrictions(client, conn)
    manager = await login(client, world.users["manager"])
    url = f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf"
    response = await client.get(url, headers=manager)
    assert response.status_code == 200, response.text
    data = response.content

    status = await asyncio.to_thread(validate, data, trust_root(server))
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (True, True, True, True)
    assert status.docmdp_ok
    assert status.coverage is not None
    assert status.coverage.name == "ENTIRE_FILE"
    signer_cn = status.signing_cert.subject.native["common_name"]
    assert signer_cn == signing.DEVELOPMENT_NAME

    digest = hashlib.sha256(data).hexdigest()
    document_id = response.headers["X-Document-Id"]
    assert response.headers["X-Document-SHA256"] == digest
    stored = await conn.fetchrow("SELECT sha256, data FROM document WHERE id::text = $1", document_id)
    assert (stored["sha256"], bytes(stored["data"])) == (digest, data), "the record is of the signed file"
    checked = await client.post(
        f"/api/v1/documents/{document_id}/check", content=data, headers={"Content-Type": "application/pdf"}
    )
    assert checked.json() == {"valid": True}
    by_hash = await client.get(f"/api/v1/documents/{document_id}/check", params={"sha256": digest})
    assert by_hash.json() == {"valid": True}
    verified = await client.post(
        f"/api/v1/documents/{document_id}/verify",
        content=data,
        headers={**manager, "Content-Type": "application/pdf"},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["matches"] is True
    assert "Fit with restrictions" in pdf_text(data)  # still plain, extractable text
    assert (await client.get(url, headers=manager)).content == data, "issued once, then the same bytes"


async def test_a_changed_byte_in_the_signed_range_invalidates_the_signature(
    client: httpx.AsyncClient, conn, server: Server
):
    world, signed = await signed_with_restrictions(client, conn)
    manager = await login(client, world.users["manager"])
    response = await client.get(
        f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf", headers=manager
    )
    changed = tampered(response.content)
    assert "Fit with restrictions" in pdf_text(changed), "still a readable PDF"

    status = await asyncio.to_thread(validate, changed, trust_root(server))
    # pyHanko: the digest of the signed bytes no longer matches (not intact), so the verdict is
    # invalid; ``valid`` alone only says the signature over the signed attributes is sound.
    assert (status.intact, status.bottom_line) == (False, False)
    assert "INVALID" in status.summary()
    checked = await client.post(
        f"/api/v1/documents/{response.headers['X-Document-Id']}/check",
        content=changed,
        headers={"Content-Type": "application/pdf"},
    )
    assert checked.json() == {"valid": False}


async def test_the_letter_is_signed_and_a_signature_by_an_untrusted_key_is_not_trusted(
    client: httpx.AsyncClient, conn, server: Server
):
    world, signed = await signed_with_restrictions(client, conn)
    employee_letter = await client.get(
        f"/api/v1/surveillance/results/{signed['id']}/letter.pdf",
        headers=await login(client, world.users["clinician"]),
    )
    assert employee_letter.status_code == 200, employee_letter.text
    ours = await asyncio.to_thread(validate, employee_letter.content, trust_root(server))
    assert (ours.intact, ours.valid, ours.trusted, ours.bottom_line) == (True, True, True, True)
    other = signing.development_pem()
    other_root = signing.from_pem(other, other, development=True).certificate
    status = await asyncio.to_thread(validate, employee_letter.content, other_root)
    assert status.intact
    assert not status.trusted
    assert not status.bottom_line


async def test_released_report_and_aggregate_report_are_signed_and_the_preview_is_not(
    client: httpx.AsyncClient, conn, server: Server
):
    world, manager, nurse, rid = await drafting(client, conn)
    employee = await login(client, world.users["employee"])
    assert (await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)).is_success
    preview = await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=employee)
    assert preview.status_code == 200
    assert signature_count(preview.content) == 0
    await move(client, employee, rid, action="approve")
    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    assert released.status_code == 200, released.text
    final = await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)
    admin = await login(client, world.users["client_admin"])
    aggregate = await client.get(f"/api/v1/organisations/{world.employer.id}/report.pdf", headers=admin)
    for response in (final, aggregate):
        assert response.status_code == 200, response.text
        status = await asyncio.to_thread(validate, response.content, trust_root(server))
        assert (status.intact, status.valid, status.trusted) == (True, True, True)
        assert response.headers["X-Document-SHA256"] == hashlib.sha256(response.content).hexdigest()
    assert "Answers to your questions" in pdf_text(final.content)


async def test_rendering_and_signing_run_on_document_threads(client: httpx.AsyncClient, conn, monkeypatch):
    threads: dict[str, str] = {}
    render, sign = certificate.render_certificate, signing.DocumentSigner.sign

    def rendering(*args: Any) -> bytes:
        threads["render"] = threading.current_thread().name
        return render(*args)

    def signing_(self: signing.DocumentSigner, pdf: bytes) -> bytes:
        threads["sign"] = threading.current_thread().name
        return sign(self, pdf)

    monkeypatch.setattr(certificate, "render_certificate", rendering)
    monkeypatch.setattr(signing.DocumentSigner, "sign", signing_)
    world, signed = await signed_with_restrictions(client, conn)
    response = await client.get(
        f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf",
        headers=await login(client, world.users["manager"]),
    )
    assert response.status_code == 200, response.text
    assert set(threads) == {"render", "sign"}
    for name in threads.values():
        assert name.startswith(offload.THREAD_PREFIX), threads
        assert name != threading.main_thread().name


async def test_a_burst_of_documents_uses_a_bounded_pool_and_leaves_the_loop_free():
    running, most = 0, 0
    lock, release = threading.Lock(), threading.Event()

    def work() -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1
        return threading.current_thread().name

    burst = [asyncio.create_task(offload.run(work)) for _ in range(3 * offload.MAX_THREADS + 2)]
    for _ in range(500):  # the loop keeps turning while the document threads are held
        if most == offload.MAX_THREADS:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert most == offload.MAX_THREADS, "the pool runs at most MAX_THREADS documents at once"
    assert running == offload.MAX_THREADS
    assert not any(task.done() for task in burst)
    release.set()
    names = await asyncio.gather(*burst)
    assert most == offload.MAX_THREADS
    assert len(set(names)) <= offload.MAX_THREADS
    assert all(name.startswith(offload.THREAD_PREFIX) for name in names)


def test_the_development_key_is_made_once_in_the_data_folder_and_named_as_such(tmp_path):
    settings = Settings(environment="development", data_dir=tmp_path)
    first, second = signing.load(settings), signing.load(settings)
    assert first.development
    assert first.certificate == second.certificate
    path = tmp_path / "signing" / signing.DEVELOPMENT_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    cert = asn1_x509.Certificate.load(first.certificate)
    assert cert.subject.native["common_name"] == "ohconnect development signing key — not for production"
    assert list(path.parent.iterdir()) == [path], "no draft left behind"
    assert signing.load(Settings(environment="development", data_dir=tmp_path / "x")).certificate != (
        first.certificate
    )


async def test_processes_starting_together_share_one_development_key(tmp_path):
    """`serve --workers N` and several demo processes may start at once: one key wins, all use it."""
    script = (
        "import hashlib, sys; from backend.core.config import Settings; from backend.reports import signing; "
        "s = signing.load(Settings(environment='development', data_dir=sys.argv[1])); "
        "print(hashlib.sha256(s.certificate).hexdigest())"
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, str(tmp_path), cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [(await process.communicate())[0].decode().strip() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert len(set(outputs)) == 1, outputs
    assert len(outputs[0]) == 64
    assert [p.name for p in (tmp_path / "signing").iterdir()] == [signing.DEVELOPMENT_FILE]
