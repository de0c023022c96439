"""Async factories: organisations, users (through the real services) and signed-in clients."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from backend.auth import service as auth_service
from backend.auth.schemas import Organisation, Role, User
from backend.referrals.schemas import EXAMPLE_FORM

PASSWORD = "correct horse battery staple"
_SEQ = itertools.count(1)


@dataclass
class World:
    """One provider with two employers, and a user of every role."""

    provider: Organisation
    employer: Organisation
    other_employer: Organisation
    users: dict[str, User]


async def make_org(
    conn: asyncpg.Connection,
    kind: str = "employer",
    provider: Organisation | None = None,
    name: str | None = None,
) -> Organisation:
    return await auth_service.create_organisation(
        conn,
        name=name or f"Org {next(_SEQ)}",
        kind=kind,  # type: ignore[arg-type]
        provider_id=provider.id if provider else None,
    )


async def make_user(
    conn: asyncpg.Connection,
    org: Organisation,
    role: Role,
    *,
    email: str | None = None,
    department: str | None = None,
    name: str = "",
) -> User:
    return await auth_service.create_user(
        conn,
        organisation_id=org.id,
        role=role,
        email=email or f"{role.value}{next(_SEQ)}@example.example",
        password=PASSWORD,
        full_name=name or f"Test {role.value}",
        department=department,
    )


async def make_world(conn: asyncpg.Connection) -> World:
    provider = await make_org(conn, "provider")
    employer = await make_org(conn, "employer", provider)
    other = await make_org(conn, "employer", provider)
    other_provider = await make_org(conn, "provider")
    far_employer = await make_org(conn, "employer", other_provider)
    users = {
        "provider_admin": await make_user(conn, provider, Role.provider_admin),
        "clinician": await make_user(conn, provider, Role.clinician),
        "client_admin": await make_user(conn, employer, Role.client_admin),
        "manager": await make_user(conn, employer, Role.manager, department="Logistics"),
        "manager_same_dept": await make_user(conn, employer, Role.manager, department="logistics"),
        "manager_other_dept": await make_user(conn, employer, Role.manager, department="Finance"),
        "employee": await make_user(conn, employer, Role.employee, email="alex.example@employer.example"),
        "other_employee": await make_user(conn, employer, Role.employee),
        "other_client_admin": await make_user(conn, other, Role.client_admin),
        "other_manager": await make_user(conn, other, Role.manager, department="Logistics"),
        "other_employee_org": await make_user(conn, other, Role.employee),
        "other_clinician": await make_user(conn, other_provider, Role.clinician),
        "other_provider_admin": await make_user(conn, other_provider, Role.provider_admin),
        "far_client_admin": await make_user(conn, far_employer, Role.client_admin),
    }
    return World(provider, employer, other, users)


async def login(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def referral_form(**overrides: Any) -> dict[str, Any]:
    """A complete, valid referral form (the OpenAPI example), with section overrides."""
    form = copy.deepcopy(EXAMPLE_FORM)
    for key, value in overrides.items():
        form[key] = value
    return form


async def make_referral(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    submit: bool = True,
    form: dict[str, Any] | None = None,
) -> dict[str, Any]:
    created = await client.post("/api/v1/referrals", json=form or referral_form(), headers=headers)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    if submit:
        submitted = await client.post(f"/api/v1/referrals/{body['id']}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
        body = submitted.json()["referral"]
    return body
