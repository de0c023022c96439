"""Every request-body example of the surveillance and report endpoints works unchanged on real records."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import login
from tests.reports.test_management_report import drafting
from tests.surveillance.helpers import enrol, make_programme, record

SURVEILLANCE = "/api/v1/surveillance"


def example(document: dict[str, Any], path: str, method: str) -> Any:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    schema = body["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema["examples"][0]


async def test_documented_examples_are_accepted(client: httpx.AsyncClient, conn):
    document = (await client.get("/openapi.json")).json()
    ours = [
        p for p in document["paths"] if p.startswith(SURVEILLANCE) or "/report" in p or "/documents/" in p
    ]
    for path in ours:
        for method, operation in document["paths"][path].items():
            assert any(code.startswith("4") for code in operation["responses"]), (method, path)

    world, _manager, nurse, rid = await drafting(client, conn)
    admin = await login(client, world.users["client_admin"])
    results = {}

    async def call(headers: dict[str, str], method: str, path: str, **params: str) -> httpx.Response:
        url = path.format(**params)
        response = await client.request(method, url, json=example(document, path, method), headers=headers)
        results[f"{method} {path}"] = response.status_code
        return response

    created = await call(admin, "post", f"{SURVEILLANCE}/programmes")
    programme_id = created.json()["id"]
    await call(
        admin, "post", SURVEILLANCE + "/programmes/{programme_id}/enrolments", programme_id=programme_id
    )
    other = await make_programme(client, admin)
    enrolment = await enrol(client, admin, other["id"])
    draft = await record(client, nurse, enrolment["id"])
    await call(nurse, "put", SURVEILLANCE + "/results/{result_id}", result_id=draft["id"])
    await call(nurse, "post", SURVEILLANCE + "/results/{result_id}/sign", result_id=draft["id"])
    await call(nurse, "put", "/api/v1/referrals/{referral_id}/report/consent", referral_id=rid)
    await call(nurse, "put", "/api/v1/referrals/{referral_id}/report", referral_id=rid)
    assert set(results.values()) <= {200, 201}, results
    assert len(results) == 6
