"""The join page's refusal counts the tries left in plain English ("1 more try", not "1 more tries")."""

from __future__ import annotations

import asyncpg
import httpx

from tests.clinics.helpers import make_clinic, outbox_links

EMPLOYEE = "alex.example@employer.example"


async def test_tries_left_are_counted_in_words(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await make_clinic(client, conn)
    token = (await outbox_links(conn, EMPLOYEE))[0]
    details = []
    for _ in range(5):
        refused = await client.post(
            "/api/v1/clinics/join", json={"token": token, "date_of_birth": "1990-01-01"}
        )
        assert refused.status_code == 422, refused.text
        details.append(refused.json()["detail"])
    assert "4 more tries." in details[0]
    assert "2 more tries." in details[2]
    assert "1 more try." in details[3]
    assert "locked" in details[4]
