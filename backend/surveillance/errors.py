from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound


class ProgrammeNotFound(NotFound):
    code = "programme_not_found"
    title = "Programme not found"


class EnrolmentNotFound(NotFound):
    code = "enrolment_not_found"
    title = "Enrolment not found"


class ResultNotFound(NotFound):
    code = "result_not_found"
    title = "Surveillance result not found"


class SurveillanceForbidden(Forbidden):
    code = "surveillance_forbidden"


class SurveillanceConflict(Conflict):
    code = "surveillance_conflict"
    title = "Not allowed in the record's current state"


class SurveillanceInvalid(Invalid):
    code = "surveillance_invalid"
    title = "Invalid surveillance data"
