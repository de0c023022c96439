from __future__ import annotations

from backend.core.errors import Conflict, NotFound


class MessageNotFound(NotFound):
    code = "message_not_found"
    title = "Message not found"


class MessageNotFailed(Conflict):
    code = "message_not_failed"
    title = "The message has not failed"
