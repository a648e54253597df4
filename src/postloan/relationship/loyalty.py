"""The loyalty ledger (CR-4): append-only points. Nothing here updates or deletes a ledger row
(the database refuses it too: triggers of migration g001); a correction is a new entry. Each
entry has a unique `key`, so the daily step appends only what is missing and re-running a date
changes nothing.

- `earn_for_dates` (the daily step `relationship.loyalty`): on each stored month end, for each
  earning rule of the policy, set-based: one SQL query finds the customers who qualify, one
  insert appends the entries not yet there; then expiry (rules.loyalty).
- `redeem`: points for a preferential-rate offer, its basis recorded (the balance, the rule,
  the policy version).
- `goodwill`: a remedy tied to a complaint — points granted once per complaint, at most the
  policy's cap.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, union_all

from postloan.access import audit
from postloan.errors import ConflictError, InvalidError
from postloan.policy import Policy
from postloan.policy.relationship import EarningRule
from postloan.relationship.rules.loyalty import (
    cutoff,
    expiring,
    is_month_end,
    last_month_ends,
    streak_period,
    tenure_period,
)
from postloan.relationship.tables import complaints, loyalty_ledger, loyalty_offers
from postloan.relationship.tiers import customers_in_tiers, has_tiers
from postloan.store.schema import account_status, cards, loans
from postloan.store.values import stored_date

SYSTEM = "daily-run"
L = loyalty_ledger.c


def _existing(conn: Connection, keys: list[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(keys), 500):
        out |= set(conn.execute(select(L.key).where(L.key.in_(keys[i : i + 500]))).scalars())
    return out


def _append(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Append the rows whose key is not in the ledger yet (idempotent)."""
    have = _existing(conn, [r["key"] for r in rows])
    new = [r for r in rows if r["key"] not in have]
    if new:
        conn.execute(insert(loyalty_ledger), new)
    return len(new)


def _on_time(conn: Connection, day: date, name: str, rule: EarningRule) -> list[dict[str, Any]]:
    ends = last_month_ends(day, rule.every)
    s = account_status.c
    q = (
        select(s.customer_id)
        .where(s.as_of.in_(ends))
        .group_by(s.customer_id)
        .having(and_(func.count(func.distinct(s.as_of)) == len(ends), func.max(s.dpd) == 0))
    )
    period = streak_period(day, rule.every)
    basis = json.dumps({"rule": name, "month_ends": [d.isoformat() for d in ends]})
    return [
        {
            "customer_id": c,
            "entry_on": day,
            "kind": "earn",
            "rule": name,
            "points": rule.points,
            "key": f"earn:{name}:{period}:{c}",
            "basis": basis,
            "created_by": SYSTEM,
        }
        for c in conn.execute(q).scalars()
    ]


def _tenure(conn: Connection, day: date, name: str, rule: EarningRule) -> list[dict[str, Any]]:
    # Customers with an account on `day` (stored status), by their first account's start.
    starts = union_all(
        select(loans.c.customer_id, loans.c.disbursement_date.label("start")),
        select(cards.c.customer_id, cards.c.open_date.label("start")),
    ).subquery()
    active = select(account_status.c.customer_id).where(account_status.c.as_of == day)
    q = (
        select(starts.c.customer_id, func.min(starts.c.start))
        .where(starts.c.customer_id.in_(active))
        .group_by(starts.c.customer_id)
    )
    out = []
    for customer_id, first in conn.execute(q):
        period = tenure_period(stored_date(first), day, rule.every)
        if period is not None:
            out.append(
                {
                    "customer_id": customer_id,
                    "entry_on": day,
                    "kind": "earn",
                    "rule": name,
                    "points": rule.points,
                    "key": f"earn:{name}:{period}:{customer_id}",
                    "basis": json.dumps(
                        {
                            "rule": name,
                            "first_account": stored_date(first).isoformat(),
                            "years": period * rule.every,
                        }
                    ),
                    "created_by": SYSTEM,
                }
            )
    return out


def _tier(conn: Connection, day: date, name: str, rule: EarningRule) -> list[dict[str, Any]]:
    """Customers held in one of the rule's tiers at each of the last `every` month ends (the
    tiers area's table, read by SQL: `relationship.tiers`); once per block of months."""
    if not has_tiers(conn):
        return []
    ends = last_month_ends(day, rule.every)
    period = streak_period(day, rule.every)
    basis = json.dumps({"rule": name, "tiers": list(rule.tiers),
                        "month_ends": [d.isoformat() for d in ends]})  # fmt: skip
    return [
        {
            "customer_id": c,
            "entry_on": day,
            "kind": "earn",
            "rule": name,
            "points": rule.points,
            "key": f"earn:{name}:{period}:{c}",
            "basis": basis,
            "created_by": SYSTEM,
        }
        for c in conn.execute(customers_in_tiers(ends, list(rule.tiers))).scalars()
    ]


EARNERS = {"on_time_months": _on_time, "tenure_years": _tenure, "tier_months": _tier}


def _expiry(conn: Connection, day: date, expiry_months: int) -> list[dict[str, Any]]:
    edge = cutoff(day, expiry_months)
    pos = func.sum(L.points).filter(and_(L.points > 0, L.entry_on <= edge))
    red = func.sum(-L.points).filter(and_(L.kind == "redeem", L.entry_on <= day))
    exp = func.sum(-L.points).filter(and_(L.kind == "expire", L.entry_on <= day))
    q = select(L.customer_id, pos, red, exp).group_by(L.customer_id)
    out = []
    for customer_id, e, r, x in conn.execute(q):
        n = expiring(int(e or 0), int(r or 0), int(x or 0))
        if n > 0:
            out.append(
                {
                    "customer_id": customer_id,
                    "entry_on": day,
                    "kind": "expire",
                    "rule": None,
                    "points": -n,
                    "key": f"expire:{day}:{customer_id}",
                    "basis": json.dumps({"earned_until": edge.isoformat()}),
                    "created_by": SYSTEM,
                }
            )
    return out


def earn_for_dates(conn: Connection, days: list[date], policy: Policy) -> int:
    """Append the earnings and expiries of the month ends among `days` (module doc)."""
    added = 0
    loyalty = policy.relationship.loyalty
    for day in sorted(d for d in days if is_month_end(d)):
        rows: list[dict[str, Any]] = []
        for name, rule in sorted(loyalty.earning.items()):
            rows += EARNERS[rule.kind](conn, day, name, rule)
        added += _append(conn, rows)
        added += _append(conn, _expiry(conn, day, loyalty.expiry_months))
    return added


def balance(conn: Connection, customer_id: str, as_of: date | None = None) -> int:
    q = select(func.coalesce(func.sum(L.points), 0)).where(L.customer_id == customer_id)
    if as_of is not None:
        q = q.where(L.entry_on <= as_of)
    return int(conn.execute(q).scalar_one())


def entries(conn: Connection, customer_id: str, limit: int = 200) -> list[Any]:
    return list(
        conn.execute(
            select(loyalty_ledger)
            .where(L.customer_id == customer_id)
            .order_by(L.entry_id.desc())
            .limit(limit)
        )
    )


def _offer(
    conn: Connection,
    customer_id: str,
    discount: int,
    entry_id: int | None,
    complaint_id: int | None,
    day: date,
    basis: dict[str, Any],
    actor: str,
    now: datetime,
) -> int:
    key = conn.execute(
        insert(loyalty_offers).values(
            customer_id=customer_id,
            kind="rate_discount",
            rate_discount=discount,
            entry_id=entry_id,
            complaint_id=complaint_id,
            offered_on=day,
            basis=json.dumps(basis, sort_keys=True),
            created_by=actor,
            created_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def redeem(
    conn: Connection, policy: Policy, customer_id: str, *, actor: str, today: date, now: datetime
) -> int:
    """Spend the offer's points for a preferential-rate offer; returns the offer id."""
    loyalty = policy.relationship.loyalty
    held = balance(conn, customer_id, today)
    if held < loyalty.rate_offer_points:
        raise ConflictError(
            f"{held} points: an offer costs {loyalty.rate_offer_points}", field="points"
        )
    count = conn.execute(
        select(func.count()).where(L.customer_id == customer_id, L.kind == "redeem")
    ).scalar_one()
    basis = {
        "balance_before": held,
        "points": loyalty.rate_offer_points,
        "rate_discount": loyalty.rate_offer_discount,
        "policy_version": policy.version,
    }
    conn.execute(
        insert(loyalty_ledger).values(
            customer_id=customer_id,
            entry_on=today,
            kind="redeem",
            rule=None,
            points=-loyalty.rate_offer_points,
            key=f"redeem:{customer_id}:{int(count) + 1}",
            basis=json.dumps(basis, sort_keys=True),
            created_by=actor,
        )
    )
    entry_id = conn.execute(
        select(func.max(L.entry_id)).where(L.customer_id == customer_id, L.kind == "redeem")
    ).scalar_one()
    offer = _offer(
        conn,
        customer_id,
        loyalty.rate_offer_discount,
        int(entry_id),
        None,
        today,
        basis,
        actor,
        now,
    )
    audit.record(
        conn,
        actor=actor,
        action="loyalty.redeem",
        target_type="customer",
        target_id=customer_id,
        detail={"offer_id": offer, **basis},
        now=now,
    )
    return offer


def goodwill(
    conn: Connection,
    policy: Policy,
    complaint_id: int,
    points: int,
    note: str,
    *,
    actor: str,
    today: date,
    now: datetime,
) -> int:
    """A goodwill remedy for a complaint: points (at most the cap), once per complaint."""
    cap = policy.relationship.loyalty.goodwill_max_points
    if not 1 <= points <= cap:
        raise InvalidError(f"points: 1 to {cap}", field="points")
    text = (note or "").strip()
    if not text or len(text) > 1000:
        raise InvalidError("note: 1 to 1000 characters", field="note")
    row = conn.execute(
        select(complaints.c.customer_id).where(complaints.c.complaint_id == complaint_id)
    ).first()
    if row is None:
        raise InvalidError(f"complaint {complaint_id}: not found", field="complaint_id")
    key = f"goodwill:{complaint_id}"
    if _existing(conn, [key]):
        raise ConflictError(f"complaint {complaint_id} already has a goodwill remedy", "points")
    basis = {"complaint_id": complaint_id, "note": text, "cap": cap}
    conn.execute(
        insert(loyalty_ledger).values(
            customer_id=row.customer_id,
            entry_on=today,
            kind="goodwill",
            rule=None,
            points=points,
            key=key,
            basis=json.dumps(basis, sort_keys=True, ensure_ascii=False),
            created_by=actor,
        )
    )
    audit.record(
        conn,
        actor=actor,
        action="loyalty.goodwill",
        target_type="complaint",
        target_id=str(complaint_id),
        detail={"points": points, "note": text},
        now=now,
    )
    return points
