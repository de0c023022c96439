"""Attachment checks: type by content (never by name), size limits, and the virus-scan hook."""

from __future__ import annotations

import asyncio
import hashlib
import io
import shlex
import zipfile
from dataclasses import dataclass
from typing import Literal

import puremagic

from backend.referrals.errors import AttachmentRejected

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALLOWED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", DOCX: ".docx"}

ScanStatus = Literal["clean", "not_scanned"]


@dataclass(frozen=True)
class Checked:
    content_type: str
    sha256: str
    scan_status: ScanStatus


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def sniff(data: bytes) -> str | None:
    """The allowed content type these bytes really are, or None."""
    if data.startswith(b"PK\x03\x04"):
        return DOCX if _is_docx(data) else None
    try:
        guesses = puremagic.magic_string(data[:4096])
    except puremagic.PureError:
        return None
    for guess in guesses[:1]:
        if guess.mime_type in ("application/pdf", "image/jpeg", "image/png"):
            return str(guess.mime_type)
    return None


def clean_filename(filename: str) -> str:
    """The name as stored and shown: no control characters (PostgreSQL text cannot hold NUL), at most 255."""
    return "".join(c for c in filename if c.isprintable()).strip()[:255] or "file"


def _refused(detail: str, message: str, kind: str) -> AttachmentRejected:
    return AttachmentRejected(detail, errors=[{"field": "file", "message": message, "type": kind}])


async def scan(data: bytes, command: str | None) -> ScanStatus:
    """Virus-scan hook: run the configured command with the file on stdin (exit 0 clean, 1 infected)."""
    if not command:
        return "not_scanned"
    proc = await asyncio.create_subprocess_exec(
        *shlex.split(command),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(proc.communicate(data), timeout=60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise _refused(
            "The virus scan did not finish; nothing was stored.", "virus scan timed out", "scan_failed"
        ) from None
    if proc.returncode == 0:
        return "clean"
    if proc.returncode == 1:
        raise _refused(
            "The file failed the virus scan; nothing was stored.", "failed the virus scan", "infected"
        )
    raise _refused(
        "The virus scanner failed; nothing was stored. Try again later.", "virus scan failed", "scan_failed"
    )


async def check(data: bytes, scan_command: str | None) -> Checked:
    if not data:
        raise AttachmentRejected(
            "The file is empty.", errors=[{"field": "file", "message": "empty file", "type": "empty"}]
        )
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentRejected(
            "Only PDF, JPEG, PNG and Word (.docx) files are accepted; this file's content is none of them.",
            errors=[
                {
                    "field": "file",
                    "message": "file content is not PDF, JPEG, PNG or DOCX",
                    "type": "file_type",
                }
            ],
        )
    status = await scan(data, scan_command)
    return Checked(content_type, hashlib.sha256(data).hexdigest(), status)
