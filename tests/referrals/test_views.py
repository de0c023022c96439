"""Who sees what of a referral they can reach (backend/referrals/disclosure.py): the referrer and
OH see it all, the employee their own form, and other managers of the department and client
administrators only its progress - never the employee's contact details or any health content."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.factories import login, make_referral, make_world, referral_form

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OH_QUESTION = "Please send the absence record for the last year."
REFERRER_ANSWER = "She says the back pain is worse after night shifts."
COMMENT = "Her sciatica flared up again on Monday."
SECRETS = (
    "+447700900123",  # employee phone, as stored
    "alex.example@employer.example",  # employee e-mail
    "Example Street",  # correspondence address
    "1985-04-12",  # date of birth
    "back pain",  # the concern and absence reasons
    "lifting duties",  # advice sought
    "forklift",  # an additional question
    "migraine",  # health condition as reported by the employee
    "Known to OH only",  # the confidential note
    "sciatica",  # a comment
    "fit_note.pdf",  # an attachment's name
)


def _form() -> dict[str, Any]:
    form = referral_form()
    form["reason"] = {
        **form["reason"],
        "health_condition_reported_by_employee": "Occasional migraine",
        "confidential_note_to_oh": "Known to OH only: a grievance is open.",
    }
    return form


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret.lower() in text.lower()]


async def _scene(client: httpx.AsyncClient, conn: asyncpg.Connection) -> tuple[Any, dict[str, Any], str]:
    world = await make_world(conn)
    headers = {name: await login(client, user) for name, user in world.users.items()}
    draft = await make_referral(client, headers["manager"], submit=False, form=_form())
    rid = draft["id"]
    uploaded = await client.post(
        f"/api/v1/referrals/{rid}/attachments",
        headers=headers["manager"],
        files={"file": ("fit_note.pdf", PDF, "application/pdf")},
        data={"kind": "fit_note"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert (
        await client.post(f"/api/v1/referrals/{rid}/submit", headers=headers["manager"])
    ).status_code == 200
    for who, body in (
        ("clinician", {"action": "request_info", "message": OH_QUESTION}),
        ("manager", {"action": "respond_info", "message": REFERRER_ANSWER}),
    ):
        moved = await client.post(f"/api/v1/referrals/{rid}/transitions", json=body, headers=headers[who])
        assert moved.status_code == 200, moved.text
    commented = await client.post(
        f"/api/v1/referrals/{rid}/comments", json={"body": COMMENT}, headers=headers["manager"]
    )
    assert commented.status_code == 201, commented.text
    return headers, uploaded.json(), rid


async def test_other_managers_and_client_admins_see_progress_only(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, attachment, rid = await _scene(client, conn)
    problems: list[str] = []
    for name in ("manager_same_dept", "client_admin"):
        h = headers[name]
        read = await client.get(f"/api/v1/referrals/{rid}", headers=h)
        assert read.status_code == 200, read.text
        body = read.json()
        if body.get("view") != "progress" or leaks(read.text):
            problems.append(f"{name} read: view {body.get('view')}, leaks {leaks(read.text)}")
        if body["form"]["employee"]["full_name"] != "Alex Example" or "edit" in body["allowed_actions"]:
            problems.append(f"{name} read: {body['form']} {body['allowed_actions']}")
        events = await client.get(f"/api/v1/referrals/{rid}/events", headers=h)
        if events.status_code != 200 or leaks(events.text) or OH_QUESTION not in events.text:
            problems.append(f"{name} events: {events.status_code} leaks {leaks(events.text)}")
        listed = await client.get("/api/v1/referrals", headers=h)
        if rid not in listed.text or leaks(listed.text):
            problems.append(f"{name} list: leaks {leaks(listed.text)}")
        for what, response in (
            ("files", await client.get(f"/api/v1/referrals/{rid}/attachments", headers=h)),
            ("file", await client.get(f"/api/v1/referrals/{rid}/attachments/{attachment['id']}", headers=h)),
            ("comments", await client.get(f"/api/v1/referrals/{rid}/comments", headers=h)),
            (
                "comment",
                await client.post(f"/api/v1/referrals/{rid}/comments", json={"body": "Any news?"}, headers=h),
            ),
            ("edit", await client.put(f"/api/v1/referrals/{rid}", json=_form(), headers=h)),
        ):
            if response.status_code != 403 or leaks(response.text) or PDF in response.content:
                problems.append(f"{name} {what}: {response.status_code} {response.text[:100]}")
    assert not problems, "\n".join(problems)
    denied = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE entity_id = $1 AND outcome = 'denied'", rid
    )
    assert denied == 2 * 5


async def test_the_referrer_oh_and_the_employee_see_the_content(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, attachment, rid = await _scene(client, conn)
    for name in ("manager", "clinician", "employee"):
        read = await client.get(f"/api/v1/referrals/{rid}", headers=headers[name])
        assert read.status_code == 200, read.text
        form = read.json()["form"]
        assert read.json()["view"] == ("employee" if name == "employee" else "full")
        assert form["employee"]["phone"] == "+447700900123"
        assert form["employee"]["date_of_birth"] == "1985-04-12"
        assert "back pain" in form["reason"]["concern"]
        assert ("confidential_note_to_oh" in form["reason"]) is (name != "employee")
        files = await client.get(
            f"/api/v1/referrals/{rid}/attachments/{attachment['id']}", headers=headers[name]
        )
        assert files.content == PDF
        events = await client.get(f"/api/v1/referrals/{rid}/events", headers=headers[name])
        assert REFERRER_ANSWER in events.text
    for name in ("manager", "clinician"):
        thread = await client.get(f"/api/v1/referrals/{rid}/comments", headers=headers[name])
        assert COMMENT in thread.text
    assert (
        await client.get(f"/api/v1/referrals/{rid}/comments", headers=headers["employee"])
    ).status_code == 403


async def test_a_client_admin_still_acts_for_the_referrer_without_the_content(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, _, rid = await _scene(client, conn)
    asked = await client.post(
        f"/api/v1/referrals/{rid}/transitions",
        json={"action": "request_info", "message": OH_QUESTION},
        headers=headers["clinician"],
    )
    assert asked.status_code == 200, asked.text
    answered = await client.post(
        f"/api/v1/referrals/{rid}/transitions",
        json={"action": "respond_info", "message": "HR will send it by Friday."},
        headers=headers["client_admin"],
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["view"] == "progress"
    assert not leaks(answered.text)
    own = await client.get(f"/api/v1/referrals/{rid}/events", headers=headers["client_admin"])
    assert "HR will send it by Friday." in own.text
    colleague = await client.get(f"/api/v1/referrals/{rid}/events", headers=headers["manager_same_dept"])
    assert "HR will send it by Friday." not in colleague.text
