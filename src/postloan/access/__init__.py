"""Access: users and roles, the permission matrix, Argon2 authentication with lock-out,
tokens, masking and audited reveal, the tamper-evident audit log, consent (docs/access.md)."""

from __future__ import annotations

from postloan.access import tables as tables  # registers the tables on the store's metadata
from postloan.access.audit import record, verify
from postloan.access.consent import Purpose, has_consent, record_consent, require_consent
from postloan.access.demo import create_demo_users
from postloan.access.errors import (
    AccessError,
    AccountLocked,
    AuthenticationFailed,
    ConsentRequired,
    PermissionDenied,
    ReasonRequired,
    UnknownUser,
    UserExists,
    WeakPassword,
)
from postloan.access.masking import (
    mask_address,
    mask_card,
    mask_customer,
    mask_id_number,
    mask_mobile,
)
from postloan.access.permissions import Action, Scope, can, scope_for
from postloan.access.reveal import reveal
from postloan.access.roles import Role
from postloan.access.scope import can_see_customer, customer_scope_clause
from postloan.access.tokens import issue_token, resolve_token, revoke_token
from postloan.access.users import (
    User,
    authenticate,
    create_user,
    disable_user,
    list_users,
    reset_password,
)

__all__ = [
    "AccessError",
    "AccountLocked",
    "Action",
    "AuthenticationFailed",
    "ConsentRequired",
    "PermissionDenied",
    "Purpose",
    "ReasonRequired",
    "Role",
    "Scope",
    "UnknownUser",
    "User",
    "UserExists",
    "WeakPassword",
    "authenticate",
    "can",
    "can_see_customer",
    "create_demo_users",
    "create_user",
    "customer_scope_clause",
    "disable_user",
    "has_consent",
    "issue_token",
    "list_users",
    "mask_address",
    "mask_card",
    "mask_customer",
    "mask_id_number",
    "mask_mobile",
    "record",
    "record_consent",
    "require_consent",
    "reset_password",
    "resolve_token",
    "reveal",
    "revoke_token",
    "scope_for",
    "tables",
    "verify",
]
