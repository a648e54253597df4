"""What churn's pages share: pool rows and the churn card as the templates show them, with the
same masking as the API (`churn.api`): roles without `account.view` (marketing, auditors) get
no amounts, evidence or grading signals; the card's phone is masked for the role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from postloan.access import Action, User, can
from postloan.access.masking import mask_customer
from postloan.churn.actions import ChurnAction
from postloan.churn.customer_view import churn_section
from postloan.churn.rules.frames import RULES
from postloan.money import format_amount
from postloan.store.values import stored_date

# Grading signals in the order the card lists them (churn.rules.grading: `signals`).
SIGNALS = ("max_dpd", "max_consecutive", "overdue_amount", "malicious_on", "complaint_on",
           "transfer_out_seen", "contact_on", "income_reported", "income_drop_percent",
           "capacity_problem", "unanswered_application_on", "stressed_industry")  # fmt: skip
# Evidence fields (churn.rules.identify.EVIDENCE_DOC), for their labels.
EVIDENCE_FIELDS = ("account_id", "consecutive", "window_late", "consecutive_not_paid_in_full",
                   "closed_on", "since", "transfer_out_on", "first_opened",
                   "last_transaction", "last_explanation", "quiet_since")  # fmt: skip


def shows_accounts(user: User) -> bool:
    return can(user.role, Action.ACCOUNT_VIEW)


def pool_row(row: Any, user: User) -> dict[str, Any]:
    """A `read.pool_page` row as the pool table shows it (amounts only with account access)."""
    accounts = shows_accounts(user)
    return {
        "customer_id": row.customer_id,
        "name": row.name,
        "branch_id": row.customer_branch,
        "rules": [k for k in RULES if row._mapping[k]],
        "first_identified": stored_date(row.first_identified).isoformat(),
        "degree": row.degree,
        "grade": int(row.grade),
        "reason": row.reason,
        "reason_source": row.reason_source,
        "worth_pursuing": bool(row.worth_pursuing),
        "balance": format_amount(int(row.balance)) if accounts else None,
        "overdue_amount": format_amount(int(row.overdue_amount)) if accounts else None,
        "max_dpd": int(row.max_dpd) if accounts else None,
    }


def _fields(value: Any) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in value.items() if v is not None] if isinstance(value, dict) else []


def evidence_blocks(evidence: dict[str, Any] | None, rules: list[str]) -> list[dict[str, Any]]:
    """Per rule that holds: its evidence as rows of (field, value) pairs — one row per account
    for rules (a) and (b), one row for the others."""
    if not evidence:
        return []
    blocks = []
    for rule in rules:
        found = evidence.get(rule)
        rows = [_fields(x) for x in found] if isinstance(found, list) else [_fields(found)]
        blocks.append({"rule": rule, "rows": [r for r in rows if r]})
    return blocks


def _signal(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "-"
    if key == "overdue_amount" and isinstance(value, int):
        return format_amount(value)
    return str(value)


def card_context(
    conn: Connection, user: User, customer: Any, *, error: str | None = None,
    form: dict[str, str] | None = None, done: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The churn card of a customer the caller may see (`customer`: its row, in scope): on the
    latest churn date in the pool or not, with evidence, degree, grade, reason, the pool
    episodes and the officers' confirmations; the reason form for who may confirm."""
    section = churn_section(conn, customer.customer_id)
    current = section["current"]
    accounts = shows_accounts(user)
    if current is not None and not accounts:
        current.update(balance=None, overdue_amount=None, max_dpd=None, evidence=None,
                       signals=None)  # fmt: skip
    signals = []
    if current is not None and current.get("signals"):
        signals = [(k, _signal(k, current["signals"][k])) for k in SIGNALS
                   if current["signals"].get(k) is not None]  # fmt: skip
    evidence = current.get("evidence") if current else None
    masked = mask_customer({"phone": customer.phone, "extra": None}, user.role)
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "phone": masked["phone"],
        "branch_id": customer.branch_id,
        "as_of": section["as_of"],
        "in_pool": section["in_pool"],
        "current": current,
        "evidence": evidence_blocks(evidence, current["rules"] if current else []),
        "window_from": (evidence or {}).get("window_from"),
        "signals": signals,
        "episodes": section["episodes"],
        "reasons": section["reasons"],
        "shows_accounts": accounts,
        "may_confirm": section["in_pool"] and can(user.role, ChurnAction.REASON),
        "error": error,
        "form": form or {},
        "done": done,
    }
