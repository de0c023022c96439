"""The whole loop in headless Chromium, every person acting through the pages, with real e-mail: the
app sends over SMTP to a server the test starts on loopback (aiosmtpd), and each person follows the
links in the messages that arrive there.

A manager refers; the employee follows the e-mailed link, acknowledges and sets a password; a nurse
triages for video; booking staff plan a video clinic on the diary page and offer its free times to
the employee there; the employee, told by e-mail, picks
an offered time on their page and the booking e-mail carries a calendar invitation (Europe/London);
the employee joins the video appointment from their page, the nurse admits them and the call
connects; the nurse ends it, records the consultation (the employee sees the report first), the
consent, writes the report and sends it for review; the employee approves it on their page; the
nurse releases it; the manager follows the release e-mail's link signed out, signs in, is returned
to the referral and reads the report (HTML and PDF); the employee sees that read in "who has seen
my records". At 1280 px and again at 375 px (the nurse's clinic page stays at desktop size)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import cast
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from icalendar import Calendar
from playwright.async_api import Browser, Page, expect

from tests.accounts.helpers import LINK
from tests.browser import chromium
from tests.conftest import Server, free_port
from tests.factories import PASSWORD, make_world
from tests.notify.smtp_server import SmtpServer
from tests.ui.test_accessibility import violations
from tests.ui.test_accounts_browser import choose_password, sign_in_with
from tests.ui.test_referral_browser import fill_referral, next_step, open_tab, sign_in, step

pytestmark = pytest.mark.browser

NEWCOMER = "robin.newstart@employer.example"
UK = ZoneInfo("Europe/London")
WAIT_MS = 30_000


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings_overrides(smtp_port: int) -> dict[str, object]:
    return {
        "mail_sender": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "mail_from": "Demo OH <no-reply@oh.example>",
        "mail_poll_seconds": 0.1,
        "mail_retry_base_seconds": 0.2,
    }


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def arrived(smtp: SmtpServer, recipient: str, subject: str | re.Pattern[str]) -> EmailMessage:
    """The newest message to ``recipient`` whose subject matches, once the SMTP server has it."""
    for _ in range(WAIT_MS // 100):
        received: list[EmailMessage] = smtp.recorder.to(recipient)
        for message in reversed(received):
            wanted = str(message["Subject"])
            matches = (
                subject.search(wanted) is not None if isinstance(subject, re.Pattern) else subject in wanted
            )
            if matches:
                return cast(EmailMessage, message)
        await asyncio.sleep(0.1)
    seen = [str(m["Subject"]) for m in smtp.recorder.to(recipient)]
    raise AssertionError(f"no message {subject!r} to {recipient}; received {seen}")


def link_in(message: EmailMessage) -> str:
    found = LINK.search(text_of(message)) or re.search(r"(https?://\S+)", text_of(message))
    assert found, text_of(message)
    return found.group(1).rstrip(".,)")


async def manager_refers(browser: Browser, server: Server, email: str, width: int) -> str:
    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await sign_in(page, email)
    await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()
    await page.get_by_role("link", name="New referral").click()
    await fill_referral(page, datetime.now(UTC).date())
    progress = page.get_by_role("navigation", name="Referral sections")
    await progress.get_by_role("button", name=re.compile(r"^2 Employee")).click()
    await step(page, "Employee").get_by_label("Employee email").fill(NEWCOMER)
    for title in (
        "Role and hazards",
        "Referrer (you)",
        "Reason for referral",
        "Absence",
        "Questions for occupational health",
        "Files",
        "Employee informed",
    ):
        await next_step(page, title)
    section = await next_step(page, "Check and submit")
    await section.get_by_role("button", name="Submit referral").click()
    await expect(page.get_by_role("heading", name="Referral submitted")).to_be_focused()
    assert tab.errors == []
    await tab.context.close()
    return NEWCOMER


async def nurse_triages(browser: Browser, server: Server, email: str, width: int) -> None:
    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await sign_in(page, email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    await page.get_by_role("table").get_by_role("link", name=re.compile("^Alex Example")).click()
    triage = page.get_by_role("form", name="Triage")
    await triage.get_by_label("Video").check()
    await triage.get_by_label("OH nurse (adviser)").check()
    await triage.get_by_label("Routine").check()
    await triage.get_by_role("button", name="Save triage").click()
    await expect(page.get_by_role("heading", name="Saved")).to_be_focused()
    await expect(page.locator(".facts")).to_contain_text("Awaiting booking")
    assert tab.errors == []
    await tab.context.close()


async def staff_plan_a_video_clinic(page: Page, starts: datetime) -> None:
    await page.get_by_role("link", name="Diary", exact=True).click()
    plan = page.get_by_role("form", name="Plan a clinic")
    await plan.get_by_label("Date").fill(starts.date().isoformat())
    await plan.get_by_label("Starts").fill(f"{starts:%H:%M}")
    await plan.get_by_label("Ends").fill(f"{starts + timedelta(minutes=60):%H:%M}")
    await plan.get_by_label("Appointment length").select_option("30")
    await plan.get_by_label("Video").check()
    await plan.get_by_role("button", name="Plan clinic").click()
    await expect(page.locator("#diary-result")).to_contain_text("Video clinic planned")


async def status(conn: asyncpg.Connection, rid: str) -> str:
    return str(await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", rid))


async def write_report(page: Page, recipient: str) -> None:
    """The consent to the report, then the report with an answer to each question."""
    consent = page.get_by_role("form", name="1. The employee's consent to the report")
    await consent.get_by_label("Who may receive the report").fill(recipient)
    await consent.get_by_label("Given verbally and recorded in the notes").check()
    await consent.get_by_label("What the employee was told").fill("What the report says and who gets it.")
    await consent.get_by_role("button", name="Save consent").click()
    await expect(consent.get_by_role("status")).to_contain_text("Saved at")
    report = page.get_by_role("form", name="2. The report")
    await report.get_by_label("Date of assessment").fill(datetime.now(UK).date().isoformat())
    await report.get_by_label("Current functional capability").fill("Can stand for an hour.")
    await report.get_by_label("Fit for their role with adjustments").check()
    answers = report.get_by_label(re.compile("^Answer to: "))
    for i in range(await answers.count()):
        await answers.nth(i).fill(f"Answer number {i + 1}.")
    await report.get_by_label("Adjustments", exact=True).fill("No lifting over 10 kg for six weeks.")
    await report.get_by_label("Prognosis, future attendance and performance").fill("Full duties in 8 weeks.")
    await report.get_by_label("Review and follow-up").fill("Review in six weeks.")
    await report.get_by_role("button", name="Save report").click()
    await expect(report.get_by_role("status")).to_contain_text("Saved at")


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_the_whole_loop_through_the_pages_with_real_email(
    browser: Browser,
    server: Server,
    smtp: SmtpServer,
    conn: asyncpg.Connection,
    width: int,
) -> None:
    world = await make_world(conn)
    problems: list[str] = []

    # 1. The manager refers (the referral form, every field by its label).
    employee_email = await manager_refers(browser, server, world.users["manager"].email, width)
    rid = str(await conn.fetchval("SELECT id FROM referral WHERE employee_email = $1", employee_email))

    # 2. The employee's e-mail arrives at the SMTP server; its link opens the referral.
    told = await arrived(smtp, employee_email, re.compile("referral", re.IGNORECASE))
    employee_tab = await open_tab(browser, server, width=width)
    employee = employee_tab.page
    await employee.goto(link_in(told))
    await expect(employee.get_by_role("heading", name="Your occupational health referral")).to_be_visible()
    await employee.get_by_label("Yes, my manager discussed this with me").check()
    await employee.get_by_role("button", name="Send my answer").click()
    offer = employee.get_by_role("region", name="Set a password so you can sign in later")
    await offer.get_by_role("link", name="Set a password").click()
    await expect(employee.get_by_role("heading", name="Set a password", level=1)).to_be_visible()
    new_password = "green lantern humming quietly"
    await choose_password(employee, new_password)
    await expect(employee.get_by_role("heading", name="Your password is saved")).to_be_visible()

    # 3. The nurse triages for a video appointment.
    await nurse_triages(browser, server, world.users["clinician"].email, width)

    # 4. Booking staff plan a video clinic starting soon on the diary page and offer its times.
    staff_tab = await open_tab(browser, server, width=width)
    staff = staff_tab.page
    await sign_in(staff, world.users["provider_admin"].email)
    await staff.wait_for_url(re.compile(r"/triage\.html"))
    now = datetime.now(UK)
    starts = (now + timedelta(minutes=15 - now.minute % 5)).replace(second=0, microsecond=0)
    await staff_plan_a_video_clinic(staff, starts)
    await staff.get_by_role("button", name=re.compile("^Offer these times")).click()
    offering = staff.get_by_role("region", name=re.compile("^Offer the free times of the video clinic"))
    await expect(offering.get_by_role("heading")).to_be_focused()
    await offering.get_by_label("Referral awaiting booking").select_option(rid)
    problems += [f"offer panel: {p}" for p in await violations(staff)]
    await offering.get_by_role("button", name="Offer the times to the employee").click()
    await expect(staff.locator("#diary-result")).to_contain_text("Offered 2 times of the video clinic")
    await expect(staff.locator("#diary-result")).to_be_focused()
    assert staff_tab.errors == []
    await staff_tab.context.close()

    # 5. The employee is told, signs in, picks the first time; the booking e-mail has the .ics.
    offered = await arrived(smtp, employee_email, "Choose your occupational health appointment")
    assert "My occupational health" in text_of(offered)
    await employee.goto("/index.html")  # signed out: sign in with the new password
    await employee.get_by_role("button", name="Sign out").click()
    await expect(employee.get_by_role("heading", name="Sign in")).to_be_visible()
    await sign_in_with(employee, employee_email, new_password)
    await employee.wait_for_url(re.compile(r"/me\.html"))
    appointments = employee.get_by_role("region", name="Your appointments")
    chooser = appointments.get_by_role("form", name="Choose a time for your appointment by video")
    await chooser.get_by_role("radio").first.check()
    await chooser.get_by_role("button", name="Book this time").click()
    booked = appointments.get_by_role("region", name="Your appointment is booked")
    await expect(booked).to_contain_text(f"{starts:%H:%M}")
    problems += [f"booked: {p}" for p in await violations(employee)]
    # The booking's own e-mail: the offer's ("Choose your ... appointment") came before it.
    invitation = await arrived(smtp, employee_email, re.compile(r"^Your occupational health appointment$"))
    parts = [p for p in invitation.walk() if p.get_content_type() == "text/calendar"]
    assert parts, [p.get_content_type() for p in invitation.walk()]
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    event = Calendar.from_ical(payload).walk("VEVENT")[0]
    assert str(event["DTSTART"].params["TZID"]) == "Europe/London"
    assert event.decoded("DTSTART").astimezone(UK).strftime("%H:%M") == f"{starts:%H:%M}"

    # 6. The nurse starts the clinic; the employee joins from their page; admitted, the call connects.
    nurse_tab = await open_tab(browser, server, width=1280)
    nurse = nurse_tab.page
    await nurse.goto("/clinic.html")
    await nurse.wait_for_url(re.compile(r"[?#]next="))  # asked to sign in, then returned
    await expect(nurse.get_by_role("heading", name="Sign in")).to_be_visible()
    await sign_in_with(nurse, world.users["clinician"].email, PASSWORD)
    await expect(nurse.get_by_role("heading", name="Your clinics today")).to_be_visible(timeout=WAIT_MS)
    await nurse.get_by_role("link", name=re.compile("^Clinic ")).click()
    await nurse.get_by_role("button", name="Start clinic").click()
    row = nurse.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row).to_contain_text("Not arrived", timeout=WAIT_MS)

    await booked.get_by_role("link", name=re.compile("^Join the video appointment")).click()
    await employee.get_by_label("I agree to have my occupational health assessment by video").check()
    await employee.get_by_role("button", name="Continue with video").click()
    await expect(employee.get_by_role("heading", name="You are in the waiting room")).to_be_visible(
        timeout=WAIT_MS
    )
    await row.get_by_role("button", name="Admit Alex Example").click(timeout=WAIT_MS)
    for page in (nurse, employee):
        await expect(page.locator("#call-quality")).to_have_attribute(
            "data-frames-decoded", re.compile(r"^[1-9]"), timeout=WAIT_MS
        )
    await nurse.get_by_role("button", name="End consultation").click()
    await nurse.get_by_role("button", name="Yes, end the consultation").click()
    await expect(employee.get_by_role("heading", name="Your appointment has ended")).to_be_visible(
        timeout=WAIT_MS
    )

    # 7. On the referral page the nurse records the consultation (the employee sees the report
    #    first), the consent to the report, writes it and sends it to the employee.
    await nurse.goto(f"/triage.html#referral={rid}&status=")
    start = nurse.get_by_role("form", name="Start the consultation")
    await start.get_by_label("The employee consents to the assessment").check()
    await start.get_by_role("button", name="Start consultation").click()
    await expect(nurse.get_by_role("heading", name="Saved")).to_be_focused()
    end = nurse.get_by_role("form", name="End the consultation")
    await end.get_by_label("The employee sees the report first").check()
    await end.get_by_label("Yes, the consultation is over").check()
    await end.get_by_role("button", name="End consultation").click()
    await expect(nurse.get_by_role("heading", name="Saved")).to_be_focused()
    await write_report(nurse, world.users["manager"].email)
    review = nurse.get_by_role("form", name="Send the report to the employee")
    await review.get_by_role("button", name="Send for review").click()
    await expect(nurse.get_by_role("heading", name="Saved")).to_be_focused()
    assert await status(conn, rid) == "EMPLOYEE_REVIEW"

    # 8. The employee is told, reads the report on their page and approves it.
    await arrived(smtp, employee_email, re.compile("report", re.IGNORECASE))
    await employee.goto("/me.html")
    to_read = employee.get_by_role("region", name="Your report to read first")
    await expect(to_read.get_by_role("article")).to_contain_text("No lifting over 10 kg for six weeks.")
    problems += [f"report to read: {p}" for p in await violations(employee)]
    await to_read.get_by_role("button", name="Approve the report").click()
    await expect(employee.get_by_role("status")).to_contain_text("You approved your report")
    assert await status(conn, rid) == "READY_FOR_RELEASE"

    # 9. The nurse releases it to the people the employee agreed.
    await nurse.reload()
    release = nurse.get_by_role("form", name="Release the report")
    await expect(release.get_by_label("Send the report to")).to_have_value(world.users["manager"].email)
    await release.get_by_role("button", name="Release report").click()
    await expect(nurse.get_by_role("heading", name="Saved")).to_be_focused()
    assert await status(conn, rid) == "RELEASED"
    assert nurse_tab.errors == []
    await nurse_tab.context.close()

    # 10. The manager's release e-mail: its link (signed out) asks them to sign in, then returns
    #     to the referral, where they read the report and download the PDF.
    manager_email = world.users["manager"].email
    released = await arrived(smtp, manager_email, re.compile("report", re.IGNORECASE))
    manager_tab = await open_tab(browser, server, width=width)
    manager = manager_tab.page
    await manager.goto(link_in(released))
    await manager.wait_for_url(re.compile(r"[?#]next="))
    await expect(manager.get_by_role("heading", name="Sign in")).to_be_visible()
    await sign_in_with(manager, manager_email, PASSWORD)
    await expect(manager.get_by_role("heading", name="Referral for Alex Example", level=1)).to_be_visible()
    report = manager.get_by_role("region", name="The report")
    await expect(report).to_contain_text("No lifting over 10 kg for six weeks.")
    problems += [f"manager reads the report: {p}" for p in await violations(manager)]
    html_href = await report.get_by_role(
        "link", name=re.compile("Open the report on its own page")
    ).get_attribute("href")
    html = await manager.request.get(html_href or "")
    assert html.status == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "No lifting over 10 kg for six weeks." in await html.text()
    pdf_href = await report.get_by_role("link", name="Download the report (PDF)").get_attribute("href")
    pdf = await manager.request.get(pdf_href or "")
    assert pdf.status == 200
    assert (await pdf.body()).startswith(b"%PDF")
    assert manager_tab.errors == []
    await manager_tab.context.close()

    # 11. The employee sees the manager's read in "who has seen my records".
    await employee.goto("/me.html")
    seen = employee.get_by_role("region", name="Who has seen my records")
    manager_row = (
        seen.get_by_role("row")
        .filter(has_text="Read your occupational health report")
        .filter(has_text=world.users["manager"].full_name)
    )
    await expect(manager_row.first).to_contain_text("Manager")
    problems += [f"who has seen my records: {p}" for p in await violations(employee)]
    assert employee_tab.errors == []
    assert not problems, "\n".join(problems)
