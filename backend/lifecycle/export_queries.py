"""SQL of the subject-access export: every record about one person at one provider's client employers.

Every statement starts from the same ``subject`` (account id or NULL, e-mail address, provider,
row limit) and ``orgs`` (the provider's client employers), so a record of any other organisation
can never be selected. Each section reads at most ``row_limit`` + 1 rows (one more says it was cut
short). Secrets never leave: no password or token hashes, no attachment or document bytes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

_SUBJECT = """
WITH subject AS (
    SELECT $1::uuid AS user_id, $2::text AS email, $3::uuid AS provider_id, $4::int AS row_limit
),
orgs AS (
    SELECT o.id, o.name FROM organisation o, subject s
    WHERE o.kind = 'employer' AND o.provider_id = s.provider_id
),
referrals AS (
    SELECT f.* FROM referral f, subject s
    WHERE (f.employee_user_id = s.user_id OR f.employee_email = s.email)
      AND f.organisation_id IN (SELECT id FROM orgs) AND f.deleted_at IS NULL
),
people AS (
    SELECT h.* FROM hs_person h, subject s
    WHERE h.email = s.email AND h.organisation_id IN (SELECT id FROM orgs)
)
"""
_LIMIT = " LIMIT (SELECT row_limit + 1 FROM subject)"

SECTIONS: dict[str, str] = {
    "account": """
        SELECT u.id, u.email, u.full_name, u.role, u.department, o.name AS organisation, u.created_at,
               u.disabled_at
        FROM app_user u JOIN orgs o ON o.id = u.organisation_id, subject s
        WHERE u.id = s.user_id OR u.email = s.email ORDER BY u.created_at""",
    "referrals": """
        SELECT f.id, o.name AS organisation, f.status, f.form, f.priority, f.modality, f.clinician_grade,
               f.decision, f.created_at, f.submitted_at, f.acknowledged_at, f.updated_at
        FROM referrals f JOIN orgs o ON o.id = f.organisation_id ORDER BY f.created_at""",
    "referral_events": """
        SELECT e.referral_id, e.at, e.actor_role, e.action, e.from_status, e.to_status, e.detail
        FROM referral_event e WHERE e.referral_id IN (SELECT id FROM referrals)
        ORDER BY e.referral_id, e.id""",
    "referral_comments": """
        SELECT c.referral_id, c.author_role, c.body, c.created_at
        FROM referral_comment c WHERE c.referral_id IN (SELECT id FROM referrals) ORDER BY c.created_at""",
    "attachments": """
        SELECT a.id, a.referral_id, a.kind, a.filename, a.content_type, a.size_bytes, a.sha256, a.created_at
        FROM referral_attachment a WHERE a.referral_id IN (SELECT id FROM referrals) ORDER BY a.created_at""",
    "reports": """
        SELECT v.referral_id, v.version, v.kind, v.content, v.consent, v.recipients, v.at
        FROM mr_report_version v WHERE v.referral_id IN (SELECT id FROM referrals)
        ORDER BY v.referral_id, v.id""",
    "report_corrections": """
        SELECT c.referral_id, c.section, c.message, c.created_at
        FROM mr_correction c WHERE c.referral_id IN (SELECT id FROM referrals) ORDER BY c.created_at""",
    "appointments": """
        SELECT a.id, a.referral_id, a.enrolment_id, a.status, cs.kind, cs.location, sl.starts_at, sl.ends_at,
               a.employee_name, a.employee_email, a.employee_birth_date, a.employee_phone,
               a.booked_at, a.video_consent_at, a.first_admitted_at, a.ended_at, a.cancelled_at, a.dna_at
        FROM appointment a JOIN clinic_session cs ON cs.id = a.session_id
        JOIN clinic_slot sl ON sl.id = a.slot_id, subject s
        WHERE a.organisation_id IN (SELECT id FROM orgs)
          AND (a.employee_user_id = s.user_id OR a.employee_email = s.email
               OR a.referral_id IN (SELECT id FROM referrals)
               OR a.enrolment_id IN (
                   SELECT e.id FROM hs_enrolment e WHERE e.person_id IN (SELECT id FROM people)))
        ORDER BY a.booked_at""",
    "surveillance_people": """
        SELECT h.id, o.name AS organisation, h.email, h.full_name, h.employee_number, h.date_of_birth, h.sex,
               h.department, h.job_title, h.created_at, h.updated_at
        FROM people h JOIN orgs o ON o.id = h.organisation_id ORDER BY h.created_at""",
    "surveillance_enrolments": """
        SELECT e.id, p.name AS programme, p.kind, e.exposure, e.start_date, e.next_due_date, e.checks_done,
               e.last_check_date, e.created_at, e.ended_at
        FROM hs_enrolment e JOIN hs_programme p ON p.id = e.programme_id
        WHERE e.person_id IN (SELECT id FROM people) ORDER BY e.created_at""",
    "surveillance_results": """
        SELECT r.id, p.name AS programme, p.kind, r.status, r.performed_on, r.modality, r.procedure,
               r.outcome, r.restrictions, r.review_date, r.refer_to, r.due_by, r.incomplete_reason,
               r.employer_actions,
               r.next_due_date, r.outcome_consent, r.assessor_name, r.assessor_role, r.signed_at,
               c.questionnaire, c.measurements, c.clinical_category, c.clinical_notes
        FROM hs_result r JOIN hs_programme p ON p.id = r.programme_id
        LEFT JOIN hs_result_clinical c ON c.result_id = r.id
        WHERE r.person_id IN (SELECT id FROM people) ORDER BY r.performed_on""",
    "reading_consents": """
        SELECT rc.id, rc.statement_version, rc.method, rc.given_at, rc.withdrawn_at
        FROM reading_consent rc, subject s WHERE rc.employee_id = s.user_id ORDER BY rc.given_at""",
    "reading_summaries": """
        SELECT rs.id, rs.device_kind, rs.device_model, rs.status, rs.created_at, rs.closed_at, rs.samples,
               rs.readings, CASE WHEN rs.hr_count > 0 THEN round((rs.hr_sum / rs.hr_count)::numeric, 1) END
               AS heart_rate_mean_bpm, rs.hr_min AS heart_rate_min_bpm, rs.hr_max AS heart_rate_max_bpm,
               rs.spo2_min AS spo2_min_pct, rs.alert_level
        FROM reading_stream rs, subject s
        WHERE rs.employee_id = s.user_id AND rs.employer_id IN (SELECT id FROM orgs)
        ORDER BY rs.created_at""",
    "messages": """
        SELECT m.id, m.channel, m.kind, m.subject, m.body, m.status, m.created_at, m.sent_at
        FROM outbox_message m, subject s
        WHERE m.recipient = s.email AND m.provider_id = s.provider_id ORDER BY m.created_at""",
    "personal_detail_changes": """
        SELECT c.field, c.old_value, c.new_value, c.reason, c.at
        FROM personal_detail_change c, subject s WHERE c.user_id = s.user_id ORDER BY c.id""",
    "audit_log": """
        SELECT a.at, a.actor_role, a.action, a.entity, a.entity_id, a.outcome
        FROM audit_event a, subject s
        WHERE (a.subject_user_id = s.user_id OR a.subject_email = s.email)
          AND (a.organisation_id IS NULL OR a.organisation_id = s.provider_id
               OR a.organisation_id IN (SELECT id FROM orgs))
        ORDER BY a.at, a.id""",
}


async def section(
    conn: asyncpg.Connection,
    name: str,
    *,
    user_id: UUID | None,
    email: str,
    provider_id: UUID,
    row_limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    """One section's rows (at most ``row_limit``) and whether there were more."""
    rows = await conn.fetch(_SUBJECT + SECTIONS[name] + _LIMIT, user_id, email, provider_id, row_limit)
    return [dict(r) for r in rows[:row_limit]], len(rows) > row_limit
