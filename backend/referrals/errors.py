from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge


class ReferralNotFound(NotFound):
    code = "referral_not_found"
    title = "Referral not found"


class ReferralStateConflict(Conflict):
    code = "referral_state_conflict"
    title = "Not allowed in the referral's current state"


class ReferralForbidden(Forbidden):
    code = "referral_forbidden"


class ReferralInvalid(Invalid):
    code = "referral_invalid"
    title = "The referral is not complete or not valid"


class AttachmentRejected(Invalid):
    code = "attachment_rejected"
    title = "Attachment refused"


class AttachmentTooLarge(PayloadTooLarge):
    code = "attachment_too_large"
    title = "Attachment too large"


class LinkInvalid(NotFound):
    code = "link_invalid"
    title = "This link is not valid"
