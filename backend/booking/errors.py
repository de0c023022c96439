"""Booking errors, each with a stable code. Anything outside the caller's scope is 404 (never 403)."""

from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound


class ClinicNotFound(NotFound):
    code = "clinic_not_found"
    title = "Clinic not found"


class SlotNotFound(NotFound):
    code = "slot_not_found"
    title = "Slot not found"


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"
    title = "Appointment not found"


class OfferNotFound(NotFound):
    code = "offer_not_found"
    title = "Offer not found"


class BookingForbidden(Forbidden):
    code = "booking_forbidden"


class BookingInvalid(Invalid):
    code = "booking_invalid"
    title = "Invalid booking request"


class BookingConflict(Conflict):
    code = "booking_conflict"
    title = "Not allowed in the current state"


class ClinicOverlap(Conflict):
    code = "clinic_overlap"
    title = "The clinician already has a clinic at that time"


class SlotTaken(Conflict):
    code = "slot_taken"
    title = "That slot is already booked"


class SlotInPast(Conflict):
    code = "slot_in_past"
    title = "That slot has already passed"


class SlotKindMismatch(Conflict):
    code = "slot_kind_mismatch"
    title = "That clinic's kind does not suit this appointment"


class SlotNotOffered(Conflict):
    code = "slot_not_offered"
    title = "That slot is not one of those offered"


class TooLateToChange(Conflict):
    code = "too_late_to_change"
    title = "Too close to the appointment to change it here"


class AppointmentClosed(Conflict):
    code = "appointment_closed"
    title = "This appointment has ended or was cancelled"


class JoinLinkInvalid(NotFound):
    code = "join_link_invalid"
    title = "This link is not valid"
