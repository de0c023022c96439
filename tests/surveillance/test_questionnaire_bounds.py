"""Questionnaires are closed, typed and bounded per programme kind, and no JSON string input may
hold a lone surrogate: each is a 422 naming the field, never a server error, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from tests.factories import login, make_world
from tests.surveillance.helpers import enrol, make_programme

MEASUREMENTS: dict[str, dict[str, Any]] = {
    "noise": {
        "audiogram": {
            "left": {"1000": 10, "2000": 15, "3000": 20, "4000": 30, "6000": 30},
            "right": {"1000": 10, "2000": 15, "3000": 25, "4000": 30, "6000": 30},
        }
    },
    "respiratory": {"fev1_l": 3.2, "fvc_l": 4.0},
    "skin": {},
    "night": {},
    "havs": {},
    "fitness_for_task": {"pulse_bpm": 70, "spo2_pct": 98},
}


def nested(depth: int) -> Any:
    value: Any = True
    for _ in range(depth):
        value = {"a": value}
    return value


async def _enrolment(
    client: httpx.AsyncClient, conn: asyncpg.Connection, kind: str
) -> tuple[dict[str, str], str]:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    nurse = await login(client, world.users["clinician"])
    programme = await make_programme(client, admin, kind=kind)
    enrolment = await enrol(client, admin, programme["id"])
    return nurse, enrolment["id"]


async def _post(client: httpx.AsyncClient, headers: dict[str, str], body: bytes) -> httpx.Response:
    return await client.post(
        "/api/v1/surveillance/results",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("kind", sorted(MEASUREMENTS))
async def test_unknown_deep_or_long_answers_are_422_naming_the_field(
    client: httpx.AsyncClient, conn: asyncpg.Connection, kind: str
) -> None:
    nurse, enrolment_id = await _enrolment(client, conn, kind)
    base = {"enrolment_id": enrolment_id, "performed_on": "2026-11-20", "measurements": MEASUREMENTS[kind]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"favourite_colour": "blue"}, "questionnaire.favourite_colour"),
        ({"deep": nested(900)}, "questionnaire.deep"),
    ]
    if kind in ("noise", "respiratory", "skin", "night"):
        cases += [
            ({"symptoms": {"made_up": True}}, "questionnaire.symptoms.made_up"),
            ({"symptoms": nested(900)}, "questionnaire.symptoms.a"),
            ({"other_symptoms": "x" * 501}, "questionnaire.other_symptoms"),
        ]
    for questionnaire, field in cases:
        response = await _post(client, nurse, json.dumps({**base, "questionnaire": questionnaire}).encode())
        assert response.status_code == 422, (kind, field, response.status_code, response.text[:200])
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields, (kind, fields)
    assert await conn.fetchval("SELECT count(*) FROM hs_result") == 0


async def test_known_answers_are_kept_in_either_shape(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    nurse, enrolment_id = await _enrolment(client, conn, "noise")
    base = {"enrolment_id": enrolment_id, "performed_on": "2026-11-20", "measurements": MEASUREMENTS["noise"]}
    for questionnaire in (
        {"symptoms": {"tinnitus": True}, "other_symptoms": "Ringing after night shifts"},
        {"tinnitus": True, "ear_infection": False},  # the older flat shape
    ):
        response = await _post(client, nurse, json.dumps({**base, "questionnaire": questionnaire}).encode())
        assert response.status_code == 201, response.text
        assert response.json()["clinical"]["questionnaire"]["symptoms"]["tinnitus"] is True


async def test_a_lone_surrogate_anywhere_in_a_json_body_is_422_naming_the_field(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    nurse, enrolment_id = await _enrolment(client, conn, "noise")
    audiogram = json.dumps(MEASUREMENTS["noise"])
    head = f'{{"enrolment_id": "{enrolment_id}", "performed_on": "2026-11-20", "measurements": {audiogram}, '
    for tail, field in (
        ('"questionnaire": {"other_symptoms": "ringing \\ud800"}}', "questionnaire.other_symptoms"),
        ('"questionnaire": {}, "clinical_notes": "\\udfff"}', "clinical_notes"),
        ('"questionnaire": {"\\ud800": true}}', "questionnaire.\\ud800"),
    ):
        response = await _post(client, nurse, (head + tail).encode())
        assert response.status_code == 422, (tail, response.status_code, response.text[:300])
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
    # A surrogate pair is a real character, and an escaped backslash is just text.
    fine = await _post(
        client, nurse, (head + '"questionnaire": {}, "clinical_notes": "\\ud83d\\ude00 \\\\ud800"}').encode()
    )
    assert fine.status_code == 201, fine.text
    assert fine.json()["clinical"]["clinical_notes"] == "\U0001f600 \\ud800"
    # Another endpoint, another body: the same single check.
    signin = await client.post(
        "/api/v1/auth/login",
        content=b'{"email": "a@b.example", "password": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert signin.status_code == 422
    assert signin.json()["errors"][0]["field"] == "password"


async def test_a_body_that_is_not_utf8_is_a_documented_422(client: httpx.AsyncClient) -> None:
    for headers in ({"Content-Type": "application/json"}, {}):
        response = await client.post(
            "/api/v1/auth/login", content=b'{"email": "\xff\xfe@b.example", "password": "x"}', headers=headers
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_encoding"
        assert response.json()["errors"][0]["field"] == "body"


async def test_a_body_nested_beyond_the_parser_is_a_422(client: httpx.AsyncClient) -> None:
    deep = b'{"email": "a@b.example", "password": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await client.post(
        "/api/v1/auth/login", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text[:200]
    assert response.json()["errors"][0]["field"] == "body"
