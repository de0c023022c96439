"""Clinic errors. Anything outside the caller's scope is 404 (never 403), as elsewhere.

Each error has a stable ``code``; the WebSocket reports the same codes in its ``error`` messages.
"""

from __future__ import annotations

from backend.booking.errors import AppointmentClosed, AppointmentNotFound, JoinLinkInvalid, SlotNotFound
from backend.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound, RateLimited, Unavailable

__all__ = ["AppointmentClosed", "AppointmentNotFound", "JoinLinkInvalid", "SlotNotFound"]


class ClinicNotFound(NotFound):
    code = "clinic_not_found"
    title = "Clinic session not found"


class ParticipantNotFound(NotFound):
    code = "participant_not_found"
    title = "Not in this waiting room"


class ClinicForbidden(Forbidden):
    code = "clinic_forbidden"


class ClinicInvalid(Invalid):
    code = "clinic_invalid"
    title = "Invalid clinic request"


class IdentityMismatch(Invalid):
    code = "identity_mismatch"
    title = "The details do not match"


class ClinicConflict(Conflict):
    code = "clinic_conflict"
    title = "Not allowed in the current state"


class RoomNotOpen(Conflict):
    code = "room_not_open"
    title = "The waiting room is not open yet"


class ConsentRequired(Conflict):
    code = "consent_required"
    title = "Consent to the video assessment is needed first"


class PeersBusy(Unavailable):
    code = "precall_busy"
    title = "The connection test is busy"


class TooManyMessages(RateLimited):
    code = "too_many_messages"
    title = "Too many messages"


class MessageTooLarge(AppError):
    status_code = 413
    code = "message_too_large"
    title = "Message too large"


class MessageInvalid(Invalid):
    code = "message_invalid"
    title = "Message not understood"
