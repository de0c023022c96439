"""Recording, proposing and signing surveillance checks; reading them as each role may.

Only clinicians record and sign. Employers (client administrators; managers for their own
department) and the employee see signed results as the employer's health record (``ResultRead``):
never the answers, measurements or clinical category. Anything outside the caller's scope is
404. Every read and change is audited in its own transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from backend.audit import service as audit
from backend.audit.schemas import NoSubject, Subject
from backend.auth.schemas import Role, User
from backend.core.config import Settings
from backend.core.listing import ListParams
from backend.notify import service as notify
from backend.surveillance import queries, rules
from backend.surveillance.errors import (
    EnrolmentNotFound,
    ResultNotFound,
    SurveillanceConflict,
    SurveillanceForbidden,
    SurveillanceInvalid,
)
from backend.surveillance.explain import explain
from backend.surveillance.readings import merge_readings
from backend.surveillance.result_schemas import (
    OUTCOME_LABEL,
    LetterData,
    OutcomeSign,
    Proposal,
    ResultClinical,
    ResultCreate,
    ResultPage,
    ResultRead,
    ResultUpdate,
)
from backend.surveillance.rules.audiometry import PreviousTest, age_on
from backend.surveillance.schemas import EnrolmentPerson
from backend.surveillance.service import scope_for

CERTIFICATE_ROLES = frozenset({Role.client_admin, Role.manager, Role.employee, Role.clinician})
LETTER_ROLES = frozenset({Role.employee, Role.clinician})


def _clinician(user: User) -> None:
    if user.role != Role.clinician:
        raise SurveillanceForbidden("Only clinicians record and sign surveillance checks.")


async def _audit(conn: asyncpg.Connection, user: User, action: str, result_id: UUID, *, email: str) -> None:
    """An access to one person's result, naming them (by the e-mail address of their records)."""
    await audit.record(conn, user.actor(), action, "hs_result", result_id, subject=Subject(email=email))


async def subject_of(conn: asyncpg.Connection, found: ResultRead) -> Subject:
    """The person a result is about, as audit rows name them."""
    emails = await queries.person_emails(conn, [found.person_id])
    return Subject(email=emails[found.person_id])


async def _audit_read(conn: asyncpg.Connection, user: User, action: str, found: ResultRead) -> None:
    subject = await subject_of(conn, found)
    await audit.record(conn, user.actor(), action, "hs_result", found.id, subject=subject)


async def _not_found(conn: asyncpg.Connection, user: User, action: str, result_id: UUID) -> ResultNotFound:
    await audit.refused(
        conn, user.actor(), action, "hs_result", result_id, outcome="not_found", subject=NoSubject
    )
    return ResultNotFound()


async def _proposal(
    conn: asyncpg.Connection,
    person: EnrolmentPerson,
    performed_on: Any,
    questionnaire: dict[str, Any],
    measurements: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], Proposal]:
    q, m = rules.check_inputs(person.programme_kind, questionnaire, measurements)
    previous = (
        [
            PreviousTest(performed_on=on, audiogram=data["audiogram"])
            for on, data in await queries.previous_audiograms(conn, person.person_id, performed_on)
        ]
        if person.programme_kind == "noise"
        else []
    )
    proposal = rules.propose(
        person.programme_kind,
        questionnaire=q,
        measurements=m,
        standards=person.standards,
        age=age_on(person.date_of_birth, performed_on),
        sex=person.sex,
        on=performed_on,
        previous=previous,
    )
    return _dump(q), _dump(m), proposal


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=False)


async def record(conn: asyncpg.Connection, user: User, body: ResultCreate) -> ResultClinical:
    """A draft check: answers and measurements stored in the clinical record, with the rules' proposal."""
    _clinician(user)
    async with conn.transaction():
        person = await queries.enrolment_person(conn, body.enrolment_id, user.provider_id)
        if person is None:
            raise EnrolmentNotFound("No such active enrolment among your clients.")
        measurements = merge_readings(body.measurements, body.readings)
        q, m, proposal = await _proposal(conn, person, body.performed_on, body.questionnaire, measurements)
        result_id = await queries.insert_result(
            conn,
            enrolment_id=person.enrolment_id,
            programme_id=person.programme_id,
            person_id=person.person_id,
            organisation_id=person.organisation_id,
            provider_id=person.provider_id,
            performed_on=body.performed_on,
            modality=body.modality,
            procedure=body.procedure or rules.PROCEDURE[person.programme_kind],
            assessor_id=user.id,
            assessor_name=user.full_name or user.email,
            assessor_role="Clinician",
        )
        await queries.insert_clinical(
            conn,
            result_id,
            questionnaire=q,
            measurements=m,
            readings_stream_id=body.readings.stream_id if body.readings else None,
            proposal=proposal.model_dump(mode="json"),
            clinical_category=proposal.clinical_category,
            clinical_notes=body.clinical_notes,
        )
        await queries.insert_result_event(conn, result_id, user.id, "record", {})
        await _audit(conn, user, "hs_result.create", result_id, email=person.email)
        return await _clinical_view(conn, user, result_id)


async def _clinical_view(conn: asyncpg.Connection, user: User, result_id: UUID) -> ResultClinical:
    found = await queries.get_result(conn, result_id, scope_for(user))
    clinical = await queries.get_clinical(conn, result_id)
    if found is None or clinical is None:
        raise ResultNotFound()
    return ResultClinical(**found.model_dump(), clinical=clinical)


async def update(conn: asyncpg.Connection, user: User, result_id: UUID, body: ResultUpdate) -> ResultClinical:
    _clinician(user)
    try:
        async with conn.transaction():
            found = await queries.get_result(conn, result_id, scope_for(user), lock=True)
            clinical = await queries.get_clinical(conn, result_id)
            if found is None or clinical is None:
                raise ResultNotFound()
            if found.status != "draft":
                raise SurveillanceConflict("A signed result cannot be changed.")
            person = await queries.enrolment_person(conn, found.enrolment_id, user.provider_id)
            if person is None:
                raise SurveillanceConflict("The enrolment has ended.")
            performed_on = body.performed_on or found.performed_on
            measurements = merge_readings(
                body.measurements if body.measurements is not None else clinical.measurements, body.readings
            )
            questionnaire = body.questionnaire if body.questionnaire is not None else clinical.questionnaire
            q, m, proposal = await _proposal(conn, person, performed_on, questionnaire, measurements)
            await queries.update_draft(conn, result_id, performed_on, body.modality or found.modality)
            await queries.update_clinical(
                conn,
                result_id,
                questionnaire=q,
                measurements=m,
                readings_stream_id=body.readings.stream_id if body.readings else clinical.readings_stream_id,
                proposal=proposal.model_dump(mode="json"),
                clinical_category=proposal.clinical_category,
                clinical_notes=body.clinical_notes
                if body.clinical_notes is not None
                else clinical.clinical_notes,
            )
            await queries.insert_result_event(conn, result_id, user.id, "edit", {})
            await _audit(conn, user, "hs_result.update", result_id, email=person.email)
            return await _clinical_view(conn, user, result_id)
    except ResultNotFound:
        raise await _not_found(conn, user, "hs_result.update", result_id) from None


def _override_problem(body: OutcomeSign, proposal: Proposal | None, category: str | None) -> str | None:
    if proposal is None:
        return None
    differs = body.outcome != proposal.outcome or (
        body.clinical_category is not None and body.clinical_category != category
    )
    if differs and not body.override_reason:
        return (
            f"The outcome or category differs from the proposal ({OUTCOME_LABEL[proposal.outcome]}, "
            f"{category}); give override_reason."
        )
    return None


async def sign(
    conn: asyncpg.Connection, user: User, result_id: UUID, body: OutcomeSign, settings: Settings
) -> ResultClinical:
    """Sign the outcome: one transition, final, audited; the manager and the employee are told."""
    _clinician(user)
    try:
        async with conn.transaction():
            found = await queries.get_result(conn, result_id, scope_for(user), lock=True)
            clinical = await queries.get_clinical(conn, result_id)
            if found is None or clinical is None:
                raise ResultNotFound()
            if found.status != "draft":
                raise SurveillanceConflict("This result is already signed.")
            problem = _override_problem(body, clinical.proposal, clinical.clinical_category)
            if problem:
                raise SurveillanceInvalid(
                    problem,
                    errors=[
                        {
                            "field": "override_reason",
                            "message": "required when overriding the proposal",
                            "type": "missing",
                        }
                    ],
                )
            await _store_signature(conn, user, found, body, clinical.clinical_category)
            email, _dob, _sex = await queries.person_email_dob(conn, found.person_id)
            await _notify_signed(conn, found, email, settings, provider_id=user.provider_id)
            await _audit(conn, user, "hs_result.sign", result_id, email=email)
            return await _clinical_view(conn, user, result_id)
    except ResultNotFound:
        raise await _not_found(conn, user, "hs_result.sign", result_id) from None


async def _store_signature(
    conn: asyncpg.Connection, user: User, found: ResultRead, body: OutcomeSign, proposed: str | None
) -> None:
    await queries.lock_enrolment(conn, found.enrolment_id)
    await queries.sign_result(
        conn,
        found.id,
        outcome=body.outcome,
        restrictions=[r.model_dump() for r in body.restrictions],
        review_date=body.review_date,
        refer_to=body.refer_to,
        due_by=body.due_by,
        incomplete_reason=body.incomplete_reason,
        employer_actions=list(body.employer_actions),
        next_due_date=body.next_due_date,
        outcome_consent=body.outcome_consent,
        assessor_registration=body.assessor_registration,
        clinical_category=body.clinical_category or proposed,
        override_reason=body.override_reason,
    )
    if body.outcome != "INCOMPLETE":
        await queries.record_check(conn, found.enrolment_id, found.performed_on, body.next_due_date)
    await queries.insert_result_event(conn, found.id, user.id, "sign", {"outcome": body.outcome})


async def _notify_signed(
    conn: asyncpg.Connection, found: ResultRead, email: str, settings: Settings, *, provider_id: UUID
) -> None:
    base = settings.public_url.rstrip("/")
    for recipient in await queries.certificate_recipients(conn, found.organisation_id, found.department):
        await notify.enqueue(
            conn,
            recipient=recipient,
            subject="Health surveillance certificate ready",
            provider_id=provider_id,
            kind="surveillance.certificate_ready",
            body=(
                f"The health surveillance certificate for {found.full_name} ({found.programme_name}) "
                "is ready. "
                f"Sign in to see and download it: {base}/surveillance.html#result={found.id}"
            ),
        )
    await notify.enqueue(
        conn,
        recipient=email,
        subject="Your health surveillance results",
        provider_id=provider_id,
        kind="surveillance.results_ready",
        body=(
            f"Your {found.programme_name} results are ready. Sign in to read your results letter: "
            f"{base}/surveillance.html#result={found.id}"
        ),
    )


async def get(conn: asyncpg.Connection, user: User, result_id: UUID) -> ResultRead | ResultClinical:
    """Clinicians get the whole record; everyone else the employer's health record."""
    try:
        async with conn.transaction():
            if user.role == Role.clinician:
                view: ResultRead | ResultClinical = await _clinical_view(conn, user, result_id)
            else:
                found = await queries.get_result(conn, result_id, scope_for(user))
                if found is None:
                    raise ResultNotFound()
                view = found
            await _audit_read(conn, user, "hs_result.read", view)
        return view
    except ResultNotFound:
        raise await _not_found(conn, user, "hs_result.read", result_id) from None


async def list_for(
    conn: asyncpg.Connection, user: User, *, status: str | None, page: ListParams
) -> ResultPage:
    async with conn.transaction():
        items, total = await queries.list_results(conn, scope_for(user), status, page=page)
        emails = await queries.person_emails(conn, list({item.person_id for item in items}))
        await audit.record_each(
            conn, user.actor(), "hs_result.list", "hs_result",
            [(item.id, Subject(email=emails[item.person_id])) for item in items],
        )  # fmt: skip
    return ResultPage.of(items, total, page)


async def certificate_view(conn: asyncpg.Connection, user: User, result_id: UUID) -> ResultRead:
    """What a certificate may hold (§5.3/§6.2): the signed outcome only. Audited as a certificate read."""
    if user.role not in CERTIFICATE_ROLES:
        raise SurveillanceForbidden("Your role cannot read surveillance certificates.")
    try:
        async with conn.transaction():
            found = await queries.get_result(conn, result_id, scope_for(user))
            if found is None or found.status != "signed":
                raise ResultNotFound()
            await _audit_read(conn, user, "hs_certificate.read", found)
        return found
    except ResultNotFound:
        raise await _not_found(conn, user, "hs_certificate.read", result_id) from None


async def letter_view(conn: asyncpg.Connection, user: User, result_id: UUID) -> LetterData:
    """The employee's own results letter (the employee and clinicians only)."""
    if user.role not in LETTER_ROLES:
        raise ResultNotFound()
    try:
        async with conn.transaction():
            found = await queries.get_result(conn, result_id, scope_for(user))
            clinical = await queries.get_clinical(conn, result_id)
            if found is None or clinical is None or found.status != "signed":
                raise ResultNotFound()
            email, dob, sex = await queries.person_email_dob(conn, found.person_id)
            await _audit(conn, user, "hs_results_letter.read", result_id, email=email)
        return LetterData(
            result=found,
            date_of_birth=dob,
            clinical=clinical,
            explanations=explain(found.programme_kind, clinical, dob, found.performed_on, sex),
        )
    except ResultNotFound:
        raise await _not_found(conn, user, "hs_results_letter.read", result_id) from None
