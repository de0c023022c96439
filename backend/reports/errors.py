from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound


class DocumentNotFound(NotFound):
    code = "document_not_found"
    title = "Document not found"


class ReportNotFound(NotFound):
    code = "report_not_found"
    title = "Report not found"


class ReportForbidden(Forbidden):
    code = "report_forbidden"


class ReportConflict(Conflict):
    code = "report_state_conflict"
    title = "Not allowed in the report's current state"


class ReportInvalid(Invalid):
    code = "report_invalid"
    title = "The report is not complete or not valid"
