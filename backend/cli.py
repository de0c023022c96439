"""The ``ohconnect`` command: serve, demo, migrate, worker, and organisation/user administration.

Without DATABASE_URL every command uses the embedded PostgreSQL kept in the data folder
(``--data-dir`` or OHCONNECT_DATA_DIR). ``serve`` starts it once in the parent process and
hands its address to the worker processes through their DATABASE_URL.

Exit codes: 0 success, 1 refused by the application or database unavailable (the reason is
printed to stderr), 2 invalid command line or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import asyncpg
import httpx
import uvicorn
from pydantic import SecretStr, TypeAdapter, ValidationError

from backend import demo
from backend.auth import service as auth_service
from backend.auth.schemas import Role
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.errors import AppError
from backend.core.types import Email
from backend.db import migrate, pool
from backend.jobs import worker as jobs_worker
from backend.lifecycle import retention as lifecycle_retention
from backend.main import create_app
from backend.observe import logs as observe_logs
from backend.reports import signing
from sensors import phone as sensors_phone

logger = logging.getLogger("ohconnect")

ROLES = tuple(role.value for role in Role)


class CommandError(Exception):
    """A refusal worth one line on stderr and exit code 1."""


# -- argument types ---------------------------------------------------------------------------


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id (a UUID as `org create` prints): {value!r}") from None


def _email(value: str) -> str:
    try:
        return TypeAdapter(Email).validate_python(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("a port is a number from 1 to 65535")
    return port


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ohconnect", description="Occupational-health platform.")
    parser.add_argument("--data-dir", type=Path, help="folder for the embedded database (OHCONNECT_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the platform (applies migrations first)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=_positive, default=1, help="number of app processes (default 1)")

    demo = commands.add_parser("demo", help="serve with idempotent, fictional demo data on 127.0.0.1")
    demo.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")

    commands.add_parser("migrate", help="apply pending database migrations and exit")

    worker = commands.add_parser(
        "worker",
        help="run background jobs (message delivery, reminders, partition upkeep) until stopped;"
        " several may run at once",
    )
    worker.add_argument(
        "--concurrency", type=_positive, default=4, help="jobs this worker runs at once (default 4)"
    )

    org = commands.add_parser("org", help="organisations").add_subparsers(dest="action", required=True)
    org_create = org.add_parser("create", help="create an organisation; prints its id")
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--kind", required=True, choices=("provider", "employer"))
    org_create.add_argument("--provider", type=_uuid, help="id of the provider serving an employer")

    user = commands.add_parser("user", help="users").add_subparsers(dest="action", required=True)
    user_create = user.add_parser("create", help="create a user; prints its id")
    user_create.add_argument("--org", required=True, type=_uuid, help="organisation id")
    user_create.add_argument("--role", required=True, choices=ROLES)
    user_create.add_argument("--email", required=True, type=_email)
    secret = user_create.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password", help="initial password (other local users may see it; prefer stdin)")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_create.add_argument("--name", default="", help="full name")
    user_create.add_argument("--department", help="department (used to scope what managers see)")

    retention = commands.add_parser("retention", help="apply every record class's retention period once")
    retention.add_argument("--dry-run", action="store_true", help="count what is due and change nothing")

    phone = commands.add_parser("simulate-phone", help="stream simulated pulse readings, as a phone would")
    sensors_phone.add_arguments(phone)
    return parser


# -- database helpers -------------------------------------------------------------------------


@asynccontextmanager
async def _connection(dsn: str, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """One connection as the application role (when usable), on an up-to-date schema."""
    await migrate.migrate(dsn, app_role=settings.db_app_role)
    role = settings.db_app_role if await pool.app_role_usable(dsn, settings.db_app_role) else None
    db = await pool.create_pool(dsn, min_size=1, max_size=1, role=role)
    try:
        async with db.acquire() as conn:
            # A pooled connection proxies every Connection method; the stubs type it separately.
            yield cast(asyncpg.Connection, conn)
    finally:
        await db.close()


# -- commands ---------------------------------------------------------------------------------


async def _migrate(dsn: str, settings: Settings) -> list[str]:
    names = {m.version: f"{m.version:04d}_{m.name}" for m in migrate.available()}
    return [names[v] for v in await migrate.migrate(dsn, app_role=settings.db_app_role)]


def cmd_migrate(settings: Settings) -> None:
    applied = asyncio.run(_migrate(pool.resolve_dsn(settings), settings))
    for name in applied:
        print(f"applied {name}")
    if not applied:
        print(f"nothing to apply (schema version {migrate.latest_version()})")


async def _org_create(dsn: str, settings: Settings, args: argparse.Namespace) -> UUID:
    async with _connection(dsn, settings) as conn:
        org = await auth_service.create_organisation(
            conn, name=args.name, kind=args.kind, provider_id=args.provider
        )
    return org.id


async def _user_create(dsn: str, settings: Settings, args: argparse.Namespace, password: str) -> UUID:
    async with _connection(dsn, settings) as conn:
        user = await auth_service.create_user(
            conn,
            organisation_id=args.org,
            role=Role(args.role),
            email=args.email,
            password=password,
            full_name=args.name,
            department=args.department,
        )
    return user.id


def _password(args: argparse.Namespace) -> str:
    password: str = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else args.password
    if not password:
        raise CommandError("the password must not be empty")
    return password


def cmd_org(settings: Settings, args: argparse.Namespace) -> None:
    print(asyncio.run(_org_create(pool.resolve_dsn(settings), settings, args)))


def cmd_user(settings: Settings, args: argparse.Namespace) -> None:
    password = _password(args)
    print(asyncio.run(_user_create(pool.resolve_dsn(settings), settings, args, password)))


def _log_config(settings: Settings) -> dict[str, Any]:
    """Every logger, uvicorn's included, on stderr as JSON or text (backend.observe.logs)."""
    return observe_logs.log_config(settings.log_level.upper(), settings.log_format_used)


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  (only naming it)
    return f"http://{shown}:{port}"


def _dsn(settings: Settings) -> str:
    if settings.database_url is None:
        raise CommandError("no database address resolved")
    return settings.database_url.get_secret_value()


def _prepare(settings: Settings, host: str, port: int) -> Settings:
    """Check the signing key, start the database if embedded, apply migrations, and pin the DSN and
    public URL."""
    logging.config.dictConfig(_log_config(settings))
    try:
        signing.load(settings)  # generates the development key once, before any worker starts
    except signing.SigningKeyError as exc:
        raise CommandError(str(exc)) from None
    dsn = pool.resolve_dsn(settings)
    asyncio.run(migrate.migrate(dsn, app_role=settings.db_app_role))  # logs what it applies
    update: dict[str, Any] = {"database_url": SecretStr(dsn)}
    if "public_url" not in settings.model_fields_set:
        update["public_url"] = _local_url(host, port)
    return settings.model_copy(update=update)


def _exit_through_python(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)


def _run(settings: Settings, host: str, port: int, workers: int) -> None:
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again to end the process.
    # Ending it through Python instead runs the exit handlers, which stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, _exit_through_python)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": _log_config(settings),
        "log_level": settings.log_level.lower(),
        "access_log": False,  # ohconnect.access logs each request without the client's address
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Worker processes build their own Settings from the environment.
    os.environ["DATABASE_URL"] = _dsn(settings)
    os.environ["OHCONNECT_PUBLIC_URL"] = settings.public_url
    os.environ["OHCONNECT_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run("backend.main:create_app", factory=True, workers=workers, **options)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    """Until SIGINT or SIGTERM; app processes then need not run jobs (OHCONNECT_INPROCESS_JOBS=false)."""
    logging.config.dictConfig(_log_config(settings))
    asyncio.run(jobs_worker.run(pool.resolve_dsn(settings), settings, concurrency=args.concurrency))


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    settings = _prepare(settings, args.host, args.port)
    _run(settings, args.host, args.port, args.workers)


async def _seed(settings: Settings) -> demo.SeedResult:
    async with _connection(_dsn(settings), settings) as conn:
        return await demo.seed(conn, settings)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    host = "127.0.0.1"
    if settings.environment == "production":
        raise CommandError("the demo is not for production (unset OHCONNECT_ENVIRONMENT=production)")
    # Demo messages go to the log and the demo mailbox, never out; its app process runs the jobs.
    demo_mail = {"mail_sender": "log", "demo_mailbox": True, "inprocess_jobs": True}
    settings = _prepare(settings.model_copy(update=demo_mail), host, args.port)
    result = asyncio.run(_seed(settings))
    logger.info(
        "demo data: created %d organisations, %d users, %d referrals",
        result.created_organisations,
        result.created_users,
        result.created_referrals,
    )
    print(f"\nohconnect demo (all data is fictional): {_local_url(host, args.port)}/\n")
    print(demo.sign_in_table(result.sign_ins))
    print(_where_to_begin(_local_url(host, args.port), result.sign_ins))
    print("\nPress Ctrl+C to stop.\n", flush=True)
    _run(settings, host, args.port, 1)


def _where_to_begin(url: str, sign_ins: list[demo.SignIn]) -> str:
    first = {s.role: s.email for s in reversed(sign_ins)}
    return (
        f"\nWhere to begin: open {url}/index.html and sign in as {first.get('manager')} (a manager,"
        f" password above) to refer an employee; then as {first.get('clinician')} (the OH nurse) to"
        f" triage it; as {first.get('provider_admin')} to see this week's clinic diary; as"
        f" {first.get('employee')} (an employee) to pick an offered appointment and review a report.\n"
        f"Demo mailbox: every e-mail and text message the platform sends is at {url}/mailbox"
        " (nothing leaves this computer); the employee's links are there."
    )


async def _retention(dsn: str, settings: Settings, *, dry_run: bool) -> list[str]:
    async with _connection(dsn, settings) as conn:
        report = await lifecycle_retention.run_retention(conn, now=utc_now(), dry_run=dry_run)
    return report.lines()


def cmd_retention(settings: Settings, args: argparse.Namespace) -> None:
    """One retention run; prints each record class with its action and count (nothing personal)."""
    for line in asyncio.run(_retention(pool.resolve_dsn(settings), settings, dry_run=args.dry_run)):
        print(line)


def cmd_simulate_phone(args: argparse.Namespace) -> None:
    """Delegates to ``sensors.phone``; it talks to the server over HTTP only, like a phone."""
    try:
        options = sensors_phone.options_from(args)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    try:
        report = asyncio.run(sensors_phone.run(options))
    except (RuntimeError, httpx.HTTPError) as exc:
        raise CommandError(str(exc)) from None
    print(report.line())
    for problem in report.rejected:
        print(f"rejected: {problem}", file=sys.stderr)
    if report.rejected or report.pending:
        raise CommandError(f"{len(report.rejected)} batches rejected, {report.pending} still buffered")


# -- entry point ------------------------------------------------------------------------------


def _dispatch(settings: Settings, args: argparse.Namespace) -> None:
    if args.command == "serve":
        cmd_serve(settings, args)
    elif args.command == "demo":
        cmd_demo(settings, args)
    elif args.command == "migrate":
        cmd_migrate(settings)
    elif args.command == "worker":
        cmd_worker(settings, args)
    elif args.command == "org":
        cmd_org(settings, args)
    elif args.command == "user":
        cmd_user(settings, args)
    elif args.command == "retention":
        cmd_retention(settings, args)
    elif args.command == "simulate-phone":
        cmd_simulate_phone(args)


def main(argv: Sequence[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)
    args = build_parser().parse_args(argv)
    try:
        settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    except ValidationError as exc:
        print(f"ohconnect: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    try:
        _dispatch(settings, args)
    except AppError as exc:
        print(f"ohconnect: error: {exc.detail}", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"ohconnect: error: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"ohconnect: error: cannot use the database ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
