from __future__ import annotations

from backend.core.errors import Forbidden, Invalid, NotFound


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class OwnAccount(Forbidden):
    code = "own_account"
    title = "You cannot do this to your own account"


class RoleNotGrantable(Forbidden):
    code = "role_not_allowed"
    title = "You may not give this role"


class RoleNotInOrganisation(Invalid):
    code = "bad_role"
    title = "This role does not belong in this organisation"
