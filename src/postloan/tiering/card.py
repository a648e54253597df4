"""A customer's tier card as the API and the workbench show it: the latest row (classes, tier,
what it was held at, the floors, RFM, the ABC value class and need level with its signals) with
the tier's strategy, and the history of tiers.
Figures (balance, DPD, times late, instalments) are account data: withheld from roles without
`account.view`, like churn's card."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from postloan.access import Action, User, can
from postloan.access.masking import mask_customer
from postloan.policy import Policy
from postloan.store.values import stored_date
from postloan.tiering import read

HISTORY_SHOWN = 90
FIGURES = ("balance", "npl_balance", "max_dpd", "times_late", "instalments")
CLASSES = ("purpose_class", "credit_status", "capacity", "qualified_tier", "tier", "streak",
           "streak_worst", "worst_class", "open_case", "recency_days", "frequency", "rfm_r",
           "rfm_f", "rfm_m", "rfm_segment", "abc", "need", "need_signals")  # fmt: skip


def shows_accounts(user: User) -> bool:
    return can(user.role, Action.ACCOUNT_VIEW)


def _row(row: Any, accounts: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"as_of": stored_date(row.as_of).isoformat()}
    found.update({k: row._mapping[k] for k in CLASSES})
    found["open_case"] = bool(found["open_case"])
    found.update({k: (int(row._mapping[k]) if accounts else None) for k in FIGURES})
    return found


def card(conn: Connection, user: User, customer: Any, policy: Policy) -> dict[str, Any]:
    """The card of `customer` (a `visible_customer` row: the caller checked the scope)."""
    accounts = shows_accounts(user)
    rows = read.customer_history(conn, customer.customer_id, HISTORY_SHOWN)
    latest = read.latest_date(conn)
    current = None
    if rows and latest is not None and stored_date(rows[0].as_of) == latest:
        current = _row(rows[0], accounts)
    masked = mask_customer({"phone": customer.phone, "extra": None}, user.role)
    strategy = None
    if current is not None:
        strategy = getattr(policy.tiering.strategies, current["tier"]).model_dump()
    return {
        "customer": {"customer_id": customer.customer_id, "name": customer.name,
                     "phone": masked["phone"], "branch_id": customer.branch_id},
        "as_of": None if latest is None else latest.isoformat(),
        "current": current,
        "strategy": strategy,
        "history": [{"as_of": stored_date(r.as_of).isoformat(), "tier": r.tier,
                     "qualified_tier": r.qualified_tier, "rfm_segment": r.rfm_segment}
                    for r in rows],
        "shows_accounts": accounts,
    }  # fmt: skip


AMOUNTS = (
    "balance",
    "npl_balance",
    "rolled_balance",
    "loss_balance",
    "removed_balance",
    "written_off_balance",
)  # withheld like accounts


def amounts_for(user: User, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` with their amounts withheld from a user without account access."""
    if shows_accounts(user):
        return rows
    return [{k: (None if k in AMOUNTS else v) for k, v in r.items()} for r in rows]
