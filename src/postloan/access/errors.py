"""Exceptions of the access layer."""

from __future__ import annotations

from datetime import datetime


class AccessError(Exception):
    """Base of every access failure."""


# What every refused login answers, whatever the reason: the answer must not tell an attacker
# whether the account exists, is locked or is disabled (the audit entry keeps the reason).
LOGIN_REFUSED = "wrong username or password, or the account cannot sign in now"


class AuthenticationFailed(AccessError):
    """Unknown user, wrong password, locked or disabled account. `reason` tells them apart
    for the audit log only; `postloan.access.signin` answers every caller with LOGIN_REFUSED."""

    reason = "wrong_password"

    def __init__(self, message: str = LOGIN_REFUSED, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class AccountLocked(AuthenticationFailed):
    """Too many consecutive failures; no password is accepted before `until`."""

    reason = "locked"

    def __init__(self, username: str, until: datetime) -> None:
        super().__init__(f"account {username!r} is locked until {until.isoformat()}")
        self.username = username
        self.until = until


class AccountDisabled(AuthenticationFailed):
    """The password was right but the account is disabled."""

    reason = "disabled"


class LoginThrottled(AccessError):
    """Too many failed logins from one address or for one username: try again after
    `retry_after` seconds (`postloan.access.ratelimit`)."""

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after
        self.scope = scope  # "client" or "username": which limit refused (for the audit log)


class PermissionDenied(AccessError):
    """The role may not do this, or not for this customer."""


class ReasonRequired(AccessError, ValueError):
    """Revealing a full value needs a stated reason."""


class UserExists(AccessError, ValueError):
    pass


class UnknownUser(AccessError, LookupError):
    pass


class WeakPassword(AccessError, ValueError):
    pass


class InvalidUsername(AccessError, ValueError):
    """A username outside the allowed length or characters (`postloan.access.users`)."""


class InvalidBranch(AccessError, ValueError):
    """A branch-scoped role without a branch, or a branch the store does not know."""


class ConsentRequired(AccessError):
    """The customer has not consented to this purpose (PIPL: separate consent)."""

    def __init__(self, customer_id: str, purpose: str) -> None:
        super().__init__(f"customer {customer_id!r} has not consented to {purpose!r}")
        self.customer_id = customer_id
        self.purpose = purpose
