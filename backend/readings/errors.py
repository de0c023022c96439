"""Readings errors. Anything outside the caller's view is ``StreamNotFound`` (404), never 403."""

from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound


class StreamNotFound(NotFound):
    code = "stream_not_found"
    title = "Measurement stream not found"


class ReadingsForbidden(Forbidden):
    code = "readings_forbidden"
    title = "Not allowed"


class ConsentRequired(Forbidden):
    code = "consent_required"
    title = "Consent to collect pulse readings is needed first"


class StreamClosed(Conflict):
    code = "stream_closed"
    title = "This measurement has ended"


class BatchConflict(Conflict):
    code = "batch_conflict"
    title = "A different batch with this sequence number was already received"


class StatementOutdated(Conflict):
    code = "consent_statement_outdated"
    title = "The consent wording has changed; please read it again"


class BatchInvalid(Invalid):
    code = "batch_invalid"
    title = "The batch is not valid"
