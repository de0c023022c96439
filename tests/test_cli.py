"""The `ohconnect` command, run as a real subprocess against the per-test database."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from backend.auth import service as auth_service
from backend.auth.passwords import verify_password
from backend.cli import main
from backend.db import migrate
from tests.db.fresh import empty_database

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    code: int
    out: str
    err: str


async def ohconnect(*args: str, dsn: str, stdin: str = "") -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHCONNECT_")}
    env["DATABASE_URL"] = dsn
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


@pytest.fixture
async def empty_dsn(pg_admin_dsn: str) -> AsyncIterator[str]:
    async with empty_database(pg_admin_dsn, "ohc_cli") as dsn:
        yield dsn


async def test_migrate_applies_then_has_nothing_to_do(empty_dsn: str) -> None:
    first = await ohconnect("migrate", dsn=empty_dsn)
    assert first.code == 0, first.err
    expected = [f"applied {m.version:04d}_{m.name}" for m in migrate.available()]
    assert first.out.splitlines() == expected
    again = await ohconnect("migrate", dsn=empty_dsn)
    assert again.code == 0, again.err
    assert again.out.strip() == f"nothing to apply (schema version {migrate.latest_version()})"


async def test_org_and_user_create_print_ids_that_exist(db_dsn: str, conn: asyncpg.Connection) -> None:
    provider = await ohconnect("org", "create", "--name", "CLI Provider", "--kind", "provider", dsn=db_dsn)
    assert provider.code == 0, provider.err
    provider_id = UUID(provider.out.strip())
    employer = await ohconnect(
        "org",
        "create",
        "--name",
        "CLI Employer",
        "--kind",
        "employer",
        "--provider",
        str(provider_id),
        dsn=db_dsn,
    )
    assert employer.code == 0, employer.err
    employer_id = UUID(employer.out.strip())

    found = await auth_service.get_organisation(conn, employer_id)
    assert found is not None
    assert (found.name, found.kind, found.provider_id) == ("CLI Employer", "employer", provider_id)

    user = await ohconnect(
        "user",
        "create",
        "--org",
        str(employer_id),
        "--role",
        "manager",
        "--email",
        "Pat.Manager@cli.example",
        "--password",
        "a long password",
        "--name",
        "Pat Manager",
        "--department",
        "Logistics",
        dsn=db_dsn,
    )
    assert user.code == 0, user.err
    created = await auth_service.get_user(conn, UUID(user.out.strip()))
    assert created is not None
    assert (created.email, created.role.value, created.full_name, created.department) == (
        "pat.manager@cli.example",
        "manager",
        "Pat Manager",
        "Logistics",
    )
    assert created.organisation_id == employer_id


async def test_password_from_stdin(db_dsn: str, conn: asyncpg.Connection) -> None:
    org = await auth_service.create_organisation(conn, name="Stdin Provider", kind="provider")
    result = await ohconnect(
        "user",
        "create",
        "--org",
        str(org.id),
        "--role",
        "clinician",
        "--email",
        "nurse@stdin.example",
        "--password-stdin",
        dsn=db_dsn,
        stdin="secret from stdin\n",
    )
    assert result.code == 0, result.err
    stored = await conn.fetchval("SELECT password_hash FROM app_user WHERE id = $1", UUID(result.out.strip()))
    assert await verify_password(stored, "secret from stdin")


_NEW_MANAGER = ("user", "create", "--org", str(uuid.UUID(int=1)), "--role", "manager")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "create", "--name", "No Provider", "--kind", "employer"], "existing provider"),
        (["org", "create", "--name", "  ", "--kind", "provider"], "1 to 200 characters"),
        (
            [*_NEW_MANAGER, "--email", "x@y.example", "--password", "a long enough password"],
            "No such organisation",
        ),
        (
            [*_NEW_MANAGER, "--email", "x@y.example", "--password", ""],
            "must not be empty",
        ),
        (
            [*_NEW_MANAGER, "--email", "x@y.example", "--password", "short-pass1"],
            "at least 12 characters",
        ),
        (
            [*_NEW_MANAGER, "--email", "jo.bloggs@y.example", "--password", "Jo.Bloggs-2026!"],
            "must not contain the e-mail address",
        ),
        (
            [*_NEW_MANAGER, "--email", "x@y.example", "--password", "abababababababab"],
            "one or two characters repeated",
        ),
    ],
)
async def test_refusals_exit_1_with_the_reason(db_dsn: str, args: list[str], message: str) -> None:
    result = await ohconnect(*args, dsn=db_dsn)
    assert result.code == 1
    assert result.out == ""
    assert message in result.err


async def test_duplicate_email_and_wrong_role_are_refused(db_dsn: str, conn: asyncpg.Connection) -> None:
    provider = await auth_service.create_organisation(conn, name="Dup Provider", kind="provider")
    employer = await auth_service.create_organisation(
        conn, name="Dup Employer", kind="employer", provider_id=provider.id
    )
    first = await ohconnect(
        "user",
        "create",
        "--org",
        str(employer.id),
        "--role",
        "employee",
        "--email",
        "same@dup.example",
        "--password",
        "first long password",
        dsn=db_dsn,
    )
    assert first.code == 0, first.err
    duplicate = await ohconnect(
        "user",
        "create",
        "--org",
        str(employer.id),
        "--role",
        "employee",
        "--email",
        "SAME@dup.example",
        "--password",
        "second long password",
        dsn=db_dsn,
    )
    assert duplicate.code == 1
    assert "already exists" in duplicate.err
    wrong_role = await ohconnect(
        "user",
        "create",
        "--org",
        str(employer.id),
        "--role",
        "clinician",
        "--email",
        "nurse@dup.example",
        "--password",
        "third long password",
        dsn=db_dsn,
    )
    assert wrong_role.code == 1
    assert "does not belong" in wrong_role.err
    provider_again = await ohconnect(
        "org", "create", "--name", "dup provider", "--kind", "provider", dsn=db_dsn
    )
    assert provider_again.code == 1
    assert "already exists" in provider_again.err
    assert await conn.fetchval("SELECT count(*) FROM app_user") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "user",
                "create",
                "--org",
                "not-a-uuid",
                "--role",
                "manager",
                "--email",
                "a@b.example",
                "--password",
                "pw",
            ],
            "not an id",
        ),
        (
            [
                "user",
                "create",
                "--org",
                str(uuid.UUID(int=1)),
                "--role",
                "boss",
                "--email",
                "a@b.example",
                "--password",
                "pw",
            ],
            "invalid choice",
        ),
        (
            [
                "user",
                "create",
                "--org",
                str(uuid.UUID(int=1)),
                "--role",
                "manager",
                "--email",
                "not-an-email",
                "--password",
                "pw",
            ],
            "not a valid e-mail",
        ),
        (
            ["user", "create", "--org", str(uuid.UUID(int=1)), "--role", "manager", "--email", "a@b.example"],
            "--password",
        ),
        (["org", "create", "--name", "X", "--kind", "hospital"], "invalid choice"),
        (["serve", "--workers", "0"], "at least 1"),
        (["demo", "--port", "70000"], "1 to 65535"),
        ([], "COMMAND"),
    ],
)
def test_bad_command_lines_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Rejected by the argument parser before anything touches a database, so run in-process.
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


async def test_unreachable_database_is_reported(db_dsn: str) -> None:
    result = await ohconnect("migrate", dsn="postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.code == 1
    assert "cannot use the database" in result.err
    assert "Traceback" not in result.err
