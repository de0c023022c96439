"""The signed-in employee's own management reports, for their "My occupational health" page, and
the message telling them that one waits for their review.

A report reaches the employee when it is sent for their review (they chose to see it first) and
stays listed after: approved, released (they get a copy) or withheld by them. domain.md sets no
fixed review deadline (a "reasonable period", adjusted for disability): the page says so and
shows since when the report has been waiting.
"""

from __future__ import annotations

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Subject
from backend.auth.schemas import Role, User
from backend.core.config import Settings
from backend.notify import service as notify
from backend.referrals.schemas import ReferralRead
from backend.referrals.transitions import Status
from backend.reports import queries
from backend.reports.errors import ReportForbidden
from backend.reports.schemas import MyReport

STAGES = {
    Status.EMPLOYEE_REVIEW: "to_review",
    Status.READY_FOR_RELEASE: "approved",
    Status.RELEASED: "released",
    Status.CLARIFICATION: "released",
    Status.REVIEW_DUE: "released",
    Status.CLOSED: "released",
    Status.CLOSED_NOT_RELEASED: "not_released",
}
PAGE = "me.html"


async def my_reports(conn: asyncpg.Connection, user: User) -> list[MyReport]:
    """The caller's own reports (employees only, else 403); the read is audited per report."""
    if user.role != Role.employee:
        raise ReportForbidden("Only employees have reports about themselves here.")
    async with conn.transaction():
        rows = await queries.my_reports(conn, user.id, [s.value for s in STAGES])
        subject = Subject(user_id=user.id, email=user.email)
        await audit.record_each(
            conn, user.actor(), "report.list_own", "referral", [(r["referral_id"], subject) for r in rows]
        )
    return [
        MyReport(
            referral_id=r["referral_id"],
            organisation_name=r["organisation_name"],
            submitted_at=r["submitted_at"],
            stage=STAGES[Status(r["status"])],
            review_since=r["review_since"],
            released_at=r["released_at"],
        )
        for r in rows
    ]


async def tell_review_requested(conn: asyncpg.Connection, referral: ReferralRead, settings: Settings) -> None:
    """Queue the message telling the employee a report waits for them (no report content in it)."""
    link = f"{settings.public_url.rstrip('/')}/{PAGE}#report={referral.id}"
    await notify.enqueue(
        conn,
        recipient=referral.employee_email,
        subject="Your occupational health report is ready for you to read",
        body=(
            "You asked to see your occupational health report before it goes to your employer. "
            "It is ready. Nothing is sent until you approve it, ask for corrections or decide "
            f"to withhold it. Sign in to read it: {link}"
        ),
        provider_id=referral.provider_id,
        kind="report.review_requested",
    )
