"""Exceptions of the access layer."""

from __future__ import annotations

from datetime import datetime


class AccessError(Exception):
    """Base of every access failure."""


class AuthenticationFailed(AccessError):
    """Unknown user, wrong password or disabled account (deliberately not told apart)."""


class AccountLocked(AuthenticationFailed):
    """Too many consecutive failures; no password is accepted before `until`."""

    def __init__(self, username: str, until: datetime) -> None:
        super().__init__(f"account {username!r} is locked until {until.isoformat()}")
        self.username = username
        self.until = until


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


class ConsentRequired(AccessError):
    """The customer has not consented to this purpose (PIPL: separate consent)."""

    def __init__(self, customer_id: str, purpose: str) -> None:
        super().__init__(f"customer {customer_id!r} has not consented to {purpose!r}")
        self.customer_id = customer_id
        self.purpose = purpose
