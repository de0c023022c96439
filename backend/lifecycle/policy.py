"""How long each class of record is kept, and what happens when its time is up.

The periods follow domain.md §5.4 where it gives one (the employer's statutory health record:
at least 40 years from the last entry; night-worker assessments: 2 years). Where it gives none
the period is the provider's choice, documented here and open to the DPO (domain.md §13): OH
clinical records are kept while legal claims are possible (6 years from the last entry, the
limitation period), raw pulse readings for a year (the per-stream summary stays with the clinical
record), and operational records (sessions, sign-in tokens, delivered messages, signalling) for
days or months.

Clinical records are never destroyed by a timer: domain.md §5.4 keeps them while needed for legal
claims or to compare screening results over time, which is a clinician's judgement. A pass over
them (action ``review``) counts the records past their period, for the clinical lead to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Action = Literal["delete", "erase", "drop_partition", "review"]

# Statutory health surveillance under COSHH, noise, vibration and ionising-radiation rules.
STATUTORY_YEARS = 40
NIGHT_WORKER_YEARS = 2
CLINICAL_YEARS = 6


@dataclass(frozen=True, slots=True)
class RecordClass:
    name: str
    action: Action
    keep: timedelta
    why: str


def years(n: int) -> timedelta:
    """Whole calendar years are not a fixed span; 365.25 days each is close enough for a cutoff."""
    return timedelta(days=round(365.25 * n))


CLASSES: tuple[RecordClass, ...] = (
    RecordClass("auth_session", "delete", timedelta(days=30), "ended sign-in sessions"),
    RecordClass("account_token", "delete", timedelta(days=30), "used or expired account links"),
    RecordClass("sign_in_attempt", "delete", timedelta(days=90), "throttle records of sign-in attempts"),
    RecordClass("entry_link", "delete", timedelta(days=30), "expired employee entry links"),
    RecordClass("outbox_message", "delete", timedelta(days=90), "delivered or failed messages"),
    RecordClass("clinic_signal", "delete", timedelta(days=1), "call signalling messages"),
    RecordClass("draft_referral", "erase", timedelta(days=180), "drafts never submitted"),
    RecordClass("reading_partition", "drop_partition", years(1), "months of raw pulse readings"),
    RecordClass("reading_raw", "delete", years(1), "raw pulse readings"),
    RecordClass("reading_batch", "delete", years(1), "raw pulse reading batches as received"),
    RecordClass("oh_clinical_record", "review", years(CLINICAL_YEARS), "OH clinical record"),
    RecordClass("night_worker_record", "review", years(NIGHT_WORKER_YEARS), "night-worker assessment"),
    RecordClass("statutory_health_record", "review", years(STATUTORY_YEARS), "statutory health record"),
)
BY_NAME = {c.name: c for c in CLASSES}


def cutoff(record_class: str, now: datetime) -> datetime:
    """Records of this class last touched before this moment are past their period."""
    return now - BY_NAME[record_class].keep


def keep_until(record_class: str, last_entry: datetime | date) -> date:
    """The first day on which a record of this class, last touched then, may be destroyed."""
    last = last_entry.date() if isinstance(last_entry, datetime) else last_entry
    return last + BY_NAME[record_class].keep
