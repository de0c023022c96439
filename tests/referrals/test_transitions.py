"""The referral state machine through the HTTP API, driven by ``transitions.TRANSITIONS``.

Every (status, action) pair is tried by every kind of participant: allowed moves give 200 with
exactly one new ``referral_event``; a known action from the wrong state gives 409, a role that
may never take the action 403, missing fields 422 naming them, a failing guard 409 - and a
refusal changes nothing.

Many states are reached by features built later (booking, consultations, reports). To test
the table for them now, a referral is created and submitted through the API and then moved to
the state under test with SQL through ``conn`` (``force_state``). One end-to-end test walks a
referral through the whole machine with the API only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from backend.auth.schemas import User
from backend.core.clock import utc_now
from backend.referrals import transitions
from backend.referrals.transitions import TRANSITIONS, Party, Status, Transition
from tests.factories import login, make_referral, make_world
from tests.reports import helpers as report_helpers
from tests.reports.helpers import content

P = Party
S = Status

# The participants tried on a referral made by world.users["manager"] (department Logistics)
# about world.users["employee"], and which party each of them is for that referral.
ACTOR_PARTIES: dict[str, frozenset[Party]] = {
    "manager": frozenset({P.referrer}),  # made the referral
    "client_admin": frozenset({P.referrer}),  # the employer's OH coordinator acts for the referrer
    "clinician": frozenset({P.clinician}),
    "provider_admin": frozenset({P.ohadmin}),
    "employee": frozenset({P.employee}),  # the employee the referral is about
    "manager_same_dept": frozenset(),  # may read it (same department) but takes no part in it
}
ACTORS = tuple(ACTOR_PARTIES)
REFERRER_ACTORS = ("manager", "client_admin")
ACTIONS = tuple(sorted(transitions.API_ACTIONS))  # "submit" is sent to its own endpoint

# What each request field is set to when an action needs it.
VALUES: dict[str, Any] = {
    "message": "Please send the absence record for the last two years.",
    "reason": "This is a question for HR rather than occupational health.",
    "modality": "video",
    "clinician_grade": "ohp",
    "priority": "soon",
    "slot_id": "5d1c2b7e-8a41-4f3e-9b0c-6e2d4a1f7c90",
    "consent_to_assessment": True,
    "release_choice": "see_first",
    "recipients": ["sam.manager@employer.example"],
}
# Release choice each guarded action needs (domain.md §3.3 rows 16, 20 and "withhold").
GUARDED: dict[str, str] = {
    "send_for_review": "see_first",
    "ready_for_release": "release",
    "withhold": "withhold",
}
RELEASE_CHOICES = ("release", "see_first", "withhold")

# domain.md §3.3, written out by hand so that a change to the table must be a deliberate one:
# (sources, action, parties, target, required fields).
PRE_RELEASE_SUBMITTED = {
    S.SUBMITTED,
    S.AWAITING_TRIAGE,
    S.INFO_REQUESTED,
    S.AWAITING_BOOKING,
    S.BOOKED,
    S.DNA,
    S.IN_CONSULTATION,
    S.REPORT_DRAFTING,
    S.AWAITING_FME,
    S.EMPLOYEE_REVIEW,
    S.READY_FOR_RELEASE,
}
DOMAIN_TABLE: list[tuple[set[Status], str, set[Party], Status | None, tuple[str, ...]]] = [
    ({S.DRAFT}, "submit", {P.referrer}, S.SUBMITTED, ()),
    ({S.SUBMITTED}, "queue", {P.system}, S.AWAITING_TRIAGE, ()),
    ({S.AWAITING_TRIAGE}, "request_info", {P.clinician}, S.INFO_REQUESTED, ("message",)),
    ({S.INFO_REQUESTED}, "respond_info", {P.referrer}, S.AWAITING_TRIAGE, ("message",)),
    ({S.AWAITING_TRIAGE}, "decline", {P.clinician}, S.DECLINED, ("reason",)),
    (
        {S.AWAITING_TRIAGE},
        "triage",
        {P.clinician},
        S.AWAITING_BOOKING,
        ("modality", "clinician_grade", "priority"),
    ),
    ({S.AWAITING_BOOKING}, "book", {P.ohadmin, P.clinician, P.employee}, S.BOOKED, ("slot_id",)),
    ({S.BOOKED}, "reschedule", {P.ohadmin, P.clinician, P.employee}, None, ("slot_id",)),
    ({S.BOOKED}, "cancel_booking", {P.ohadmin, P.clinician, P.employee}, S.AWAITING_BOOKING, ()),
    ({S.BOOKED}, "mark_dna", {P.system, P.clinician}, S.DNA, ()),
    ({S.DNA}, "rebook", {P.ohadmin, P.referrer}, S.AWAITING_BOOKING, ()),
    ({S.DNA}, "close_dna", {P.ohadmin, P.referrer}, S.CLOSED_DNA, ()),
    ({S.BOOKED}, "start", {P.clinician}, S.IN_CONSULTATION, ("consent_to_assessment",)),
    ({S.IN_CONSULTATION}, "decline_assessment", {P.clinician}, S.CLOSED_NO_CONSENT, ()),
    ({S.IN_CONSULTATION}, "finish_consultation", {P.clinician}, S.REPORT_DRAFTING, ("release_choice",)),
    ({S.REPORT_DRAFTING}, "request_fme", {P.clinician}, S.AWAITING_FME, ("reason",)),
    ({S.AWAITING_FME}, "fme_received", {P.clinician}, S.REPORT_DRAFTING, ()),
    ({S.REPORT_DRAFTING}, "send_for_review", {P.clinician}, S.EMPLOYEE_REVIEW, ()),
    ({S.EMPLOYEE_REVIEW}, "flag_error", {P.employee}, S.REPORT_DRAFTING, ("message",)),
    ({S.EMPLOYEE_REVIEW}, "approve", {P.employee}, S.READY_FOR_RELEASE, ()),
    ({S.EMPLOYEE_REVIEW, S.READY_FOR_RELEASE}, "withdraw_consent", {P.employee}, S.CLOSED_NOT_RELEASED, ()),
    ({S.REPORT_DRAFTING}, "withhold", {P.clinician}, S.CLOSED_NOT_RELEASED, ()),
    ({S.REPORT_DRAFTING}, "ready_for_release", {P.clinician}, S.READY_FOR_RELEASE, ()),
    ({S.READY_FOR_RELEASE}, "release", {P.clinician}, S.RELEASED, ("recipients",)),
    ({S.RELEASED}, "request_clarification", {P.referrer}, S.CLARIFICATION, ("message",)),
    ({S.CLARIFICATION}, "add_addendum", {P.clinician}, S.RELEASED, ("message",)),
    ({S.RELEASED}, "mark_review_due", {P.clinician, P.system}, S.REVIEW_DUE, ()),
    ({S.RELEASED, S.REVIEW_DUE}, "close", {P.system, P.clinician, P.ohadmin}, S.CLOSED, ()),
    # A draft was never sent, so there is nothing to withdraw: withdrawing it would show an
    # unsubmitted, unattested referral to OH and to the employee.
    (PRE_RELEASE_SUBMITTED, "withdraw", {P.referrer}, S.WITHDRAWN, ()),
]


@dataclass(frozen=True)
class Expected:
    status_code: int
    code: str | None = None  # the problem body's code


OK = Expected(200)
NOT_FOUND = Expected(404, "referral_not_found")
FORBIDDEN = Expected(403, "referral_forbidden")
CONFLICT = Expected(409, "referral_state_conflict")


def rule_for(action: str) -> Transition:
    rules = transitions.by_action(action)
    assert len(rules) == 1, f"{action} has {len(rules)} rows"
    return rules[0]


def body_for(action: str, **changes: Any) -> dict[str, Any]:
    """A request taking ``action`` with every field it requires (``changes`` override or drop with None)."""
    body: dict[str, Any] = {"action": action, **{name: VALUES[name] for name in rule_for(action).requires}}
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def decision_for(rule: Transition) -> dict[str, Any]:
    return {"release_choice": GUARDED[rule.action]} if rule.action in GUARDED else {}


def expected(status: Status, action: str, actor: str, decision: dict[str, Any]) -> Expected:
    """What the table says should happen (a draft is visible to its author only)."""
    if status == S.DRAFT and actor != "manager":
        return NOT_FOUND
    parties = ACTOR_PARTIES[actor]
    if not any(t.parties & parties for t in transitions.by_action(action)):
        return FORBIDDEN
    rule = transitions.find(status, action)
    if rule is None or not rule.parties & parties:
        return CONFLICT
    if rule.guard is not None and rule.guard(decision) is not None:
        return CONFLICT
    return OK


async def force_state(
    conn: asyncpg.Connection, referral_id: UUID, status: Status, decision: dict[str, Any] | None = None
) -> None:
    """Put a referral into a state that later features will reach through their own flows."""
    await conn.execute(
        "UPDATE referral SET status = $2, decision = $3 WHERE id = $1",
        referral_id,
        status.value,
        decision or {},
    )


async def snapshot(conn: asyncpg.Connection, referral_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(
        """SELECT status, version, decision, priority, modality, clinician_grade, form, acknowledged_at,
                  updated_at, (SELECT count(*) FROM referral_event e WHERE e.referral_id = r.id) AS events
           FROM referral r WHERE id = $1""",
        referral_id,
    )
    assert row is not None
    return dict(row)


async def events_after(conn: asyncpg.Connection, referral_id: UUID, count: int) -> list[tuple[Any, ...]]:
    rows = await conn.fetch(
        """SELECT action, from_status, to_status, actor_role, actor_id FROM referral_event
           WHERE referral_id = $1 ORDER BY id OFFSET $2""",
        referral_id,
        count,
    )
    return [tuple(r) for r in rows]


async def audit_outcomes(conn: asyncpg.Connection, referral_id: UUID) -> dict[tuple[str, str], int]:
    rows = await conn.fetch(
        """SELECT action, outcome, count(*) AS n FROM audit_event
           WHERE entity = 'referral' AND entity_id = $1 GROUP BY action, outcome""",
        str(referral_id),
    )
    return {(r["action"], r["outcome"]): r["n"] for r in rows}


async def act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    referral_id: UUID,
    action: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    if action == "submit":
        return await client.post(f"/api/v1/referrals/{referral_id}/submit", headers=headers)
    return await client.post(
        f"/api/v1/referrals/{referral_id}/transitions", json=body or body_for(action), headers=headers
    )


def outcome_of(response: httpx.Response) -> Expected:
    if response.status_code == 200:
        return OK
    return Expected(response.status_code, response.json().get("code"))


async def gather_limited(jobs: list[Callable[[], Awaitable[Any]]], limit: int = 8) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


@dataclass
class Cast:
    users: dict[str, User]
    headers: dict[str, dict[str, str]]


async def cast(client: httpx.AsyncClient, conn: asyncpg.Connection) -> Cast:
    world = await make_world(conn)
    headers = {name: await login(client, world.users[name]) for name in ACTORS}
    return Cast(world.users, headers)


async def referral_in(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    team: Cast,
    status: Status,
    decision: dict[str, Any] | None = None,
    author: str = "manager",
) -> UUID:
    made = await make_referral(client, team.headers[author], submit=status != S.DRAFT)
    assert made["employee_user_id"] == str(team.users["employee"].id), (
        "the referral is not linked to the employee"
    )
    referral_id = UUID(made["id"])
    if status != S.DRAFT:
        await force_state(conn, referral_id, status, decision)
    return referral_id


def test_table_is_the_domain_state_machine() -> None:
    table = {t.action: t for t in TRANSITIONS}
    assert len(table) == len(TRANSITIONS), "an action appears in more than one row"
    mismatches = []
    for sources, action, parties, target, requires in DOMAIN_TABLE:
        rule = table.pop(action, None)
        if rule is None:
            mismatches.append(f"{action}: missing from TRANSITIONS")
            continue
        got = (set(rule.sources), set(rule.parties), rule.target, rule.requires)
        if got != (sources, parties, target, requires):
            mismatches.append(
                f"{action}: table has {got}, domain says {(sources, parties, target, requires)}"
            )
    mismatches += [f"{action}: not in domain.md §3.3" for action in table]
    for action, choice in GUARDED.items():
        guard = rule_for(action)
        assert guard.guard is not None, f"{action} has no guard"
        for other in RELEASE_CHOICES:
            if (guard.guard({"release_choice": other}) is None) != (other == choice):
                mismatches.append(f"{action}: guard wrong for release_choice={other}")
        if guard.guard({}) is None:
            mismatches.append(f"{action}: guard passes with no release choice recorded")
    unguarded = [t.action for t in TRANSITIONS if t.guard is not None and t.action not in GUARDED]
    assert not unguarded, f"unexpected guards on {unguarded}"
    assert not mismatches, "\n".join(mismatches)


def refusal_cells(status: Status) -> list[tuple[str, str, Expected]]:
    """Every (action, actor) refused in ``status``.

    A role that may never take an action is refused before the state is looked at, so those
    403s are tried in one state the action starts from and in one it does not, not in all 21.
    Others' drafts are tried with a few actions here; test_visibility tries every endpoint.
    """
    cells = []
    for action in ACTIONS:
        rule = rule_for(action)
        elsewhere = next(s for s in Status if s not in rule.sources and s != S.DRAFT)
        for actor in ACTORS:
            want = expected(status, action, actor, {})
            if want == OK or (want == FORBIDDEN and status not in rule.sources and status != elsewhere):
                continue
            if want == NOT_FOUND and action not in ("submit", "withdraw", "book"):
                continue
            cells.append((action, actor, want))
    return cells


async def test_refusals_for_every_state_action_and_actor(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Every cell of (status x action x actor) that must be refused is refused, and changes nothing."""
    team = await cast(client, conn)
    mismatches: list[str] = []
    for status in Status:
        referral_id = await referral_in(client, conn, team, status)
        before = await snapshot(conn, referral_id)
        audit_before = await audit_outcomes(conn, referral_id)
        cells = refusal_cells(status)

        def job(action: str, actor: str, rid: UUID = referral_id) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: act(client, team.headers[actor], rid, action)

        responses = await gather_limited([job(action, actor) for action, actor, _ in cells])
        want_audit: dict[tuple[str, str], int] = {}
        for (action, actor, want), response in zip(cells, responses, strict=True):
            if outcome_of(response) != want:
                mismatches.append(
                    f"{status} {action} by {actor}: expected {want}, got "
                    f"{response.status_code} {response.text[:160]}"
                )
            key = (f"referral.{action}", "not_found" if want == NOT_FOUND else "denied")
            want_audit[key] = want_audit.get(key, 0) + 1
        after = await snapshot(conn, referral_id)
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            mismatches.append(f"{status}: refused requests changed the referral: {changed}")
        audit_after = await audit_outcomes(conn, referral_id)
        for key, count in want_audit.items():
            written = audit_after.get(key, 0) - audit_before.get(key, 0)
            if written != count:
                mismatches.append(
                    f"{status}: {count} refused {key[0]} should write {count} '{key[1]}' audit "
                    f"rows, wrote {written}"
                )
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches)


TRIAGE_COLUMNS = ("modality", "clinician_grade", "priority")


def same_value(stored: Any, sent: Any) -> bool:
    if isinstance(sent, str) and isinstance(stored, str) and sent[:4].isdigit():  # a timestamp, maybe as "Z"
        return datetime.fromisoformat(stored) == datetime.fromisoformat(sent)
    return bool(stored == sent)


def success_cells() -> list[tuple[Transition, Status, str]]:
    """Every (rule, source, actor) the API takes without a report (report steps: their own tests)."""
    return [
        (rule, source, actor)
        for rule in TRANSITIONS
        if rule.action in transitions.API_ACTIONS
        for source in sorted(rule.sources)
        for actor in ACTORS
        if rule.parties & ACTOR_PARTIES[actor]
    ]


async def test_every_allowed_transition_moves_and_records_one_event(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    team = await cast(client, conn)
    cells = success_cells()
    tried = {rule.action for rule, _, _ in cells}
    assert tried == transitions.API_ACTIONS, f"no API actor for {transitions.API_ACTIONS - tried}"

    async def check(rule: Transition, source: Status, actor: str) -> list[str]:
        label = f"{source} {rule.action} by {actor}"
        # A draft is private to its author, so a client admin submits (or withdraws) their own.
        author = actor if source == S.DRAFT and actor in REFERRER_ACTORS else "manager"
        referral_id = await referral_in(client, conn, team, source, decision_for(rule), author)
        before = await snapshot(conn, referral_id)
        response = await act(client, team.headers[actor], referral_id, rule.action)
        if response.status_code != 200:
            return [f"{label}: expected 200, got {response.status_code} {response.text[:200]}"]
        problems: list[str] = []
        target = rule.target or source
        # Submission is queued for triage by the system at once.
        final = S.AWAITING_TRIAGE if rule.action == "submit" else target
        user = team.users[actor]
        body = response.json()["referral"] if rule.action == "submit" else response.json()
        if body["status"] != final:
            problems.append(f"{label}: response status {body['status']}, expected {final}")
        after = await snapshot(conn, referral_id)
        if after["status"] != final:
            problems.append(f"{label}: stored status {after['status']}, expected {final}")
        want_events: list[tuple[Any, ...]] = [
            (rule.action, source.value, target.value, user.role.value, user.id)
        ]
        if rule.action == "submit":
            want_events.append(("queue", S.SUBMITTED.value, S.AWAITING_TRIAGE.value, "system", None))
        else:
            if after["version"] != before["version"] + 1:
                problems.append(f"{label}: version {before['version']} -> {after['version']}")
            detail = await conn.fetchval(
                "SELECT detail FROM referral_event WHERE referral_id = $1 ORDER BY id DESC LIMIT 1",
                referral_id,
            )
            for name in rule.requires:
                # Triage sets columns; the note travels in the event; the rest is the decision.
                where = (
                    after if name in TRIAGE_COLUMNS else detail if name == "message" else after["decision"]
                )
                if not same_value(where.get(name), VALUES[name]):
                    problems.append(f"{label}: {name} stored as {where.get(name)!r}, sent {VALUES[name]!r}")
        got_events = await events_after(conn, referral_id, before["events"])
        if got_events != want_events:
            problems.append(f"{label}: events {got_events}, expected {want_events}")
        audit = await audit_outcomes(conn, referral_id)
        if audit.get((f"referral.{rule.action}", "ok")) != 1:
            problems.append(f"{label}: audit rows {audit}")
        return problems

    mismatches = [line for cell in cells for line in await check(*cell)]
    assert not mismatches, f"{len(mismatches)} of {len(cells)} allowed transitions failed:\n" + "\n".join(
        mismatches
    )


async def test_missing_required_fields_are_named(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    team = await cast(client, conn)
    mismatches: list[str] = []
    for rule in TRANSITIONS:
        if not rule.requires or rule.action not in transitions.API_ACTIONS:
            continue  # report steps' fields are checked by their own endpoints
        actor = next(a for a in ACTORS if rule.parties & ACTOR_PARTIES[a])
        source = min(rule.sources)
        referral_id = await referral_in(client, conn, team, source, decision_for(rule))
        before = await snapshot(conn, referral_id)
        omissions = [(name,) for name in rule.requires] + ([rule.requires] if len(rule.requires) > 1 else [])
        for omitted in omissions:
            body = body_for(rule.action, **dict.fromkeys(omitted))
            response = await act(client, team.headers[actor], referral_id, rule.action, body)
            named = {e["field"] for e in response.json().get("errors") or []}
            if response.status_code != 422 or named != set(omitted):
                mismatches.append(f"{rule.action} without {omitted}: {response.status_code}, fields {named}")
        if await snapshot(conn, referral_id) != before:
            mismatches.append(f"{rule.action}: a refused request changed the referral")
    assert not mismatches, "\n".join(mismatches)


async def test_invalid_field_values_are_named(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    team = await cast(client, conn)
    cases: list[tuple[Status, str, dict[str, Any], str]] = [
        (S.AWAITING_TRIAGE, "triage", {"modality": "carrier_pigeon"}, "modality"),
        (S.AWAITING_TRIAGE, "triage", {"priority": "whenever"}, "priority"),
        (S.AWAITING_BOOKING, "book", {}, "action"),  # only into a slot, at the booking endpoint
        (S.BOOKED, "reschedule", {}, "action"),
        (S.BOOKED, "start", {"consent_to_assessment": False}, "consent_to_assessment"),
        (S.IN_CONSULTATION, "finish_consultation", {"release_choice": "tell_everyone"}, "release_choice"),
        (S.AWAITING_TRIAGE, "request_info", {"message": ""}, "message"),
        (S.AWAITING_TRIAGE, "request_info", {"message": "nul\x00byte"}, "message"),
        (S.AWAITING_TRIAGE, "decline", {"reason": "nul\x00byte"}, "reason"),
        (S.AWAITING_TRIAGE, "request_info", {"colour": "blue"}, "colour"),
    ]
    mismatches: list[str] = []
    for status, action, changes, field in cases:
        referral_id = await referral_in(client, conn, team, status)
        before = await snapshot(conn, referral_id)
        response = await act(
            client, team.headers["clinician"], referral_id, action, body_for(action, **changes)
        )
        named = [e["field"] for e in response.json().get("errors") or []]
        if response.status_code != 422 or field not in named:
            mismatches.append(f"{action} {changes}: {response.status_code}, fields {named}")
        if await snapshot(conn, referral_id) != before:
            mismatches.append(f"{action} {changes}: the referral changed")
    assert not mismatches, "\n".join(mismatches)


async def test_fields_an_action_does_not_take_are_refused(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A request may not slip in fields of another action (e.g. change the employee's release choice)."""
    team = await cast(client, conn)
    drafting = await referral_in(client, conn, team, S.REPORT_DRAFTING, {"release_choice": "withhold"})
    before = await snapshot(conn, drafting)
    sneaky = await act(
        client,
        team.headers["clinician"],
        drafting,
        "request_fme",
        body_for("request_fme", release_choice="release"),
    )
    assert sneaky.status_code == 422, sneaky.text
    assert [e["field"] for e in sneaky.json()["errors"]] == ["release_choice"]
    assert await snapshot(conn, drafting) == before

    missed = await referral_in(client, conn, team, S.DNA, {"starts_at": "2030-01-07T10:00:00+00:00"})
    await conn.execute("UPDATE referral SET priority = 'routine' WHERE id = $1", missed)
    before = await snapshot(conn, missed)
    jump = await act(client, team.headers["manager"], missed, "rebook", body_for("rebook", priority="urgent"))
    assert jump.status_code == 422, jump.text
    assert [e["field"] for e in jump.json()["errors"]] == ["priority"]
    assert await snapshot(conn, missed) == before

    # A note is welcome on any action and is kept in the event.
    noted = await act(
        client, team.headers["manager"], missed, "rebook", body_for("rebook", message="Back next week")
    )
    assert noted.status_code == 200, noted.text
    detail = await conn.fetchval(
        "SELECT detail FROM referral_event WHERE referral_id = $1 ORDER BY id DESC LIMIT 1", missed
    )
    assert detail == {"message": "Back next week"}


async def test_guards_refuse_with_409(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    team = await cast(client, conn)
    mismatches: list[str] = []
    for action, needed in GUARDED.items():
        if action not in transitions.API_ACTIONS:
            continue  # report steps: test_report_steps_only_through_their_endpoints
        for recorded in [None, *RELEASE_CHOICES]:
            if recorded == needed:
                continue
            referral_id = await referral_in(
                client, conn, team, S.REPORT_DRAFTING, {"release_choice": recorded} if recorded else {}
            )
            before = await snapshot(conn, referral_id)
            response = await act(client, team.headers["clinician"], referral_id, action)
            if response.status_code != 409 or "release choice" not in response.json()["detail"]:
                mismatches.append(
                    f"{action} with release_choice={recorded}: {response.status_code} {response.text}"
                )
            if await snapshot(conn, referral_id) != before:
                mismatches.append(f"{action} with release_choice={recorded}: the referral changed")
    assert not mismatches, "\n".join(mismatches)


async def test_unknown_and_internal_actions_are_invalid(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    team = await cast(client, conn)
    referral_id = await referral_in(client, conn, team, S.SUBMITTED)
    before = await snapshot(conn, referral_id)
    # "queue" is the system's; "submit" has its own endpoint; the others do not exist.
    for action in ("queue", "submit", "teleport", "TRIAGE"):
        response = await client.post(
            f"/api/v1/referrals/{referral_id}/transitions",
            json={"action": action},
            headers=team.headers["clinician"],
        )
        assert response.status_code == 422, (action, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["action"], action
    assert (await audit_outcomes(conn, referral_id)).get(("referral.transition", "invalid")) == 4
    missing = await client.post(
        f"/api/v1/referrals/{referral_id}/transitions", json={}, headers=team.headers["clinician"]
    )
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["action"]
    assert await snapshot(conn, referral_id) == before


async def test_report_steps_only_through_their_endpoints(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """The transitions endpoint refuses report steps (naming the endpoint to use), even where the
    table allows them: only the report endpoints check that the report exists and is complete.
    Their guards still hold there."""
    team = await cast(client, conn)
    mismatches: list[str] = []
    for action, endpoint in transitions.REPORT_ACTIONS.items():
        rule = rule_for(action)
        actor = next(a for a in ACTORS if rule.parties & ACTOR_PARTIES[a])
        referral_id = await referral_in(client, conn, team, min(rule.sources), decision_for(rule))
        before = await snapshot(conn, referral_id)
        shown = await client.get(f"/api/v1/referrals/{referral_id}", headers=team.headers[actor])
        if action not in shown.json()["allowed_actions"]:
            mismatches.append(f"{action}: not in allowed_actions {shown.json()['allowed_actions']}")
        response = await act(client, team.headers[actor], referral_id, action)
        if response.status_code != 422 or endpoint not in response.json()["detail"]:
            mismatches.append(f"{action}: {response.status_code} {response.text[:200]}")
        if await snapshot(conn, referral_id) != before:
            mismatches.append(f"{action}: the referral changed")
    assert not mismatches, "\n".join(mismatches)

    # No report written: the report endpoint refuses where the transitions endpoint used to move.
    ready = await referral_in(client, conn, team, S.READY_FOR_RELEASE, {"release_choice": "see_first"})
    before = await snapshot(conn, ready)
    release = await client.post(
        f"/api/v1/referrals/{ready}/report/release",
        json={"recipients": [team.users["manager"].email]},
        headers=team.headers["clinician"],
    )
    assert release.status_code in (404, 409, 422), release.text
    for bad, field in (([], "recipients"), (["not-an-email"], "recipients.0")):
        refused = await client.post(
            f"/api/v1/referrals/{ready}/report/release",
            json={"recipients": bad},
            headers=team.headers["clinician"],
        )
        assert refused.status_code == 422, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]]
    assert await snapshot(conn, ready) == before


async def plan_video_clinic(client: httpx.AsyncClient, team: Cast) -> list[dict[str, Any]]:
    """A video clinic of the team's clinician tomorrow, planned by booking staff: its slots."""
    starts = (utc_now() + timedelta(days=1)).replace(microsecond=0)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "slot_minutes": 30,
        "kind": "video",
        "clinician_id": str(team.users["clinician"].id),
    }
    planned = await client.post("/api/v1/booking/clinics", json=body, headers=team.headers["provider_admin"])
    assert planned.status_code == 201, planned.text
    return list(planned.json()["slots"])


async def booking_step(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    team: Cast,
    referral_id: UUID,
    actor: str,
    action: str,
) -> httpx.Response:
    """Book, move or mark as not attended through the booking endpoints (into the team's clinic)."""
    headers = team.headers[actor]
    admin = team.headers["provider_admin"]
    slots = (
        await client.get(
            "/api/v1/booking/diary",
            params={"week_start": str(utc_now().date() + timedelta(days=1))},
            headers=admin,
        )
    ).json()["sessions"][0]["slots"]
    free = [s for s in slots if s["appointment"] is None]
    current = next(
        (
            s["appointment"]["id"]
            for s in slots
            if s["appointment"] and s["appointment"]["status"] == "booked"
        ),
        None,
    )
    if action == "book" and actor == "employee":
        offer = await client.post(
            "/api/v1/booking/offers",
            json={"referral_id": str(referral_id), "slot_ids": [free[-1]["id"]]},
            headers=admin,
        )
        assert offer.status_code == 201, offer.text
        return await client.post(
            f"/api/v1/booking/offers/{offer.json()['id']}/book",
            json={"slot_id": free[-1]["id"]},
            headers=headers,
        )
    if action == "book":
        return await client.post(
            "/api/v1/booking/appointments",
            json={"referral_id": str(referral_id), "slot_id": free[0]["id"]},
            headers=headers,
        )
    if action == "reschedule":
        return await client.post(
            f"/api/v1/booking/appointments/{current}/reschedule",
            json={"slot_id": free[0]["id"]},
            headers=headers,
        )
    # not attended: only once its time has come, so the slot is moved into the past first
    await conn.execute(
        "UPDATE clinic_slot SET starts_at = now() - interval '1 hour',"
        " ends_at = now() - interval '30 minutes' FROM appointment a"
        " WHERE a.slot_id = clinic_slot.id AND a.id = $1",
        UUID(current),
    )
    return await client.post(f"/api/v1/clinics/appointments/{current}/dna", headers=headers)


async def test_whole_journey_through_the_api(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    """DRAFT to CLOSED with the API only; each step is offered in allowed_actions before it is taken."""
    team = await cast(client, conn)
    referral_id = UUID((await make_referral(client, team.headers["manager"], submit=False))["id"])
    diary_slots = await plan_video_clinic(client, team)
    steps: list[tuple[str, str, dict[str, Any], Status]] = [
        ("manager", "submit", {}, S.AWAITING_TRIAGE),
        ("clinician", "request_info", {}, S.INFO_REQUESTED),
        ("client_admin", "respond_info", {}, S.AWAITING_TRIAGE),
        ("clinician", "triage", {}, S.AWAITING_BOOKING),
        ("provider_admin", "book", {}, S.BOOKED),
        ("provider_admin", "reschedule", {}, S.BOOKED),
        ("clinician", "mark_dna", {}, S.DNA),
        ("manager", "rebook", {}, S.AWAITING_BOOKING),
        ("employee", "book", {}, S.BOOKED),
        ("clinician", "start", {}, S.IN_CONSULTATION),
        ("clinician", "finish_consultation", {"release_choice": "see_first"}, S.REPORT_DRAFTING),
        ("clinician", "request_fme", {}, S.AWAITING_FME),
        ("clinician", "fme_received", {}, S.REPORT_DRAFTING),
        ("clinician", "send_for_review", {}, S.EMPLOYEE_REVIEW),
        ("employee", "flag_error", {}, S.REPORT_DRAFTING),
        ("clinician", "send_for_review", {}, S.EMPLOYEE_REVIEW),
        ("employee", "approve", {}, S.READY_FOR_RELEASE),
        ("clinician", "release", {}, S.RELEASED),
        ("manager", "request_clarification", {}, S.CLARIFICATION),
        ("clinician", "add_addendum", {}, S.RELEASED),
        ("clinician", "mark_review_due", {}, S.REVIEW_DUE),
        ("provider_admin", "close", {}, S.CLOSED),
    ]
    manager_email = team.users["manager"].email
    report_bodies: dict[str, dict[str, Any]] = {
        "send_for_review": {},
        "flag_error": {"section": "background", "message": "I started in 2019, not 2017."},
        "release": {"recipients": [manager_email]},
        "add_addendum": {"text": "The 10 kg limit applies to single lifts."},
    }
    for actor, action, changes, target in steps:
        headers = team.headers[actor]
        shown = await client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
        assert shown.status_code == 200, (actor, shown.text)
        assert action in shown.json()["allowed_actions"], (actor, action, shown.json()["allowed_actions"])
        if action == "send_for_review":  # the report is written before it goes anywhere
            for path, sent in (
                ("report/consent", report_helpers.consent(manager_email)),
                ("report", content()),
            ):
                saved = await client.put(
                    f"/api/v1/referrals/{referral_id}/{path}", json=sent, headers=headers
                )
                assert saved.status_code == 200, saved.text
        endpoint = transitions.REPORT_ACTIONS.get(action)
        if action in transitions.BOOKING_ACTIONS:
            response = await booking_step(client, conn, team, referral_id, actor, action)
        elif endpoint is None:
            response = await act(client, headers, referral_id, action, body_for(action, **changes))
        else:
            response = await client.post(
                f"/api/v1/referrals/{referral_id}/{endpoint}", json=report_bodies[action], headers=headers
            )
        assert response.status_code in (200, 201, 204), (actor, action, response.text)
        now = await client.get(f"/api/v1/referrals/{referral_id}", headers=team.headers["clinician"])
        assert now.json()["status"] == target, (action, now.json()["status"])
    final = (await client.get(f"/api/v1/referrals/{referral_id}", headers=team.headers["clinician"])).json()
    assert final["allowed_actions"] == []
    assert final["priority"] == VALUES["priority"]
    assert final["decision"]["starts_at"] == diary_slots[-1]["starts_at"]

    history = (
        await client.get(f"/api/v1/referrals/{referral_id}/events", headers=team.headers["manager"])
    ).json()
    assert [e["action"] for e in history] == ["create", "submit", "queue"] + [s[1] for s in steps[1:]]
    previous = None
    for event in history:  # one unbroken chain of states
        assert event["from_status"] == previous, event
        previous = event["to_status"]
    assert previous == S.CLOSED
