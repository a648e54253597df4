"""Tiering by hand: plain per-customer Python written from docs/tiering.md (no polars
expressions), the oracle of the property tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from postloan.ledger.dates import add_months
from postloan.policy import Policy

TIERS = ("premium", "low", "medium", "high")
CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")


def classify_one(
    accounts: list[dict[str, Any]],
    loans: dict[str, dict[str, Any]],
    customer: dict[str, Any] | None,
    open_case: bool,
    policy: Policy,
) -> dict[str, Any]:
    """One customer on one date: `accounts` their status rows."""
    t = policy.tiering
    purposes = t.purposes.model_dump()
    top = sorted(accounts, key=lambda a: (-a["outstanding_principal"], a["account_id"]))[0]
    if top["account_type"] == "card":
        purpose = purposes["card"]
    else:
        raw = loans.get(top["account_id"], {}).get("purpose")
        purpose = purposes.get(raw, purposes["unknown"]) if raw not in ("card", "unknown") \
            else purposes["unknown"]  # fmt: skip
    instalments = 0
    for a in accounts:
        loan = loans.get(a["account_id"])
        if a["account_type"] == "loan" and a["outstanding_principal"] > 0 and loan is not None:
            instalments += loan["principal"] // loan["term_months"] + (
                loan["principal"] * loan["annual_rate"] // (12 * 100_000_000)
            )
    max_dpd = max(a["dpd"] for a in accounts)
    late = sum(a["cumulative_overdue_periods"] for a in accounts)
    c = t.credit
    if max_dpd >= c.poor_min_dpd or late >= c.poor_min_times_late:
        credit = "poor"
    elif max_dpd == 0 and late <= c.good_max_times_late:
        credit = "good"
    else:
        credit = "average"
    k = t.capacity
    income = None if customer is None else customer["monthly_income"]
    debts = 0 if customer is None or customer["total_liabilities"] is None \
        else customer["total_liabilities"]  # fmt: skip
    if income is None or income <= 0:
        capacity = k.when_income_unknown
    elif (
        instalments * 100 > k.weak_min_dsr_percent * income
        or debts * 100 > k.weak_min_dti_percent * 12 * income
    ):
        capacity = "weak"
    elif (
        instalments * 100 <= k.strong_max_dsr_percent * income
        and debts * 100 <= k.strong_max_dti_percent * 12 * income
    ):
        capacity = "strong"
    else:
        capacity = "average"
    worst = max((a["risk_class"] for a in accounts), key=CLASSES.index)
    matrix_tier = getattr(getattr(t.matrix, credit), capacity)
    floor = {"normal": "premium", "special_mention": t.floors.special_mention}.get(worst, "high")
    if open_case:
        floor = "high"
    tier = TIERS[max(TIERS.index(matrix_tier), TIERS.index(floor))]
    return {
        "purpose_class": purpose, "credit_status": credit, "capacity": capacity,
        "balance": sum(a["outstanding_principal"] for a in accounts),
        "npl_balance": sum(a["outstanding_principal"] for a in accounts
                           if a["risk_class"] in ("substandard", "doubtful", "loss")),
        "max_dpd": max_dpd, "times_late": late, "instalments": instalments,
        "worst_class": worst, "open_case": open_case, "qualified_tier": tier,
    }  # fmt: skip


def hold_sequence(qualified: list[str | None], n: int) -> list[str | None]:
    """A customer's held tier on consecutive stored dates (None: not tiered that date)."""
    held: list[str | None] = []
    tier: str | None = None
    streak, worst = 0, -1
    for q in qualified:
        if q is None:
            tier, streak, worst = None, 0, -1
            held.append(None)
            continue
        if tier is None or TIERS.index(q) >= TIERS.index(tier):
            tier, streak, worst = q, 0, -1
        else:
            streak += 1
            worst = max(worst, TIERS.index(q))
            if streak >= n:
                tier, streak, worst = TIERS[worst], 0, -1
        held.append(tier)
    return held


def rfm_day(
    day: date,
    accounts: dict[str, list[dict[str, Any]]],
    loans: dict[str, dict[str, Any]],
    policy: Policy,
    statements: list[dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """customer → recency_days, frequency, rfm_r/f/m, rfm_segment on `day`."""
    statements = statements or []
    facts: dict[str, dict[str, Any]] = {}
    for customer, rows in accounts.items():
        activity = [a["last_payment_date"] for a in rows if a["last_payment_date"] is not None]
        mine = [lo for lo in loans.values() if lo["customer_id"] == customer
                and lo["disbursement_date"] <= day]  # fmt: skip
        activity += [lo["disbursement_date"] for lo in mine]
        uses = [s["statement_date"] for s in statements if s["customer_id"] == customer
                and s["purchases"] > 0 and s["statement_date"] <= day]  # fmt: skip
        activity += uses
        on_time = 0
        for a in rows:
            if a["account_type"] == "card":
                due = sum(1 for s in statements if s["card_id"] == a["account_id"]
                          and s["minimum_due"] > 0 and s["due_date"] <= day)  # fmt: skip
                on_time += max(due - a["cumulative_overdue_periods"], 0)
                continue
            loan = loans.get(a["account_id"])
            if loan is None:
                continue
            first = loan["first_due_date"] or add_months(loan["disbursement_date"], 1)
            due = sum(1 for k in range(loan["term_months"]) if add_months(first, k) <= day)
            on_time += max(due - a["cumulative_overdue_periods"], 0)
        facts[customer] = {
            "recency_days": (day - max(activity)).days if activity else None,
            "frequency": on_time + len(mine) + len(uses),
            "balance": sum(a["outstanding_principal"] for a in rows),
        }
    n = len(facts)

    def scores(key: Any) -> dict[str, int]:
        order = sorted(facts, key=lambda c: (key(facts[c]), c))
        return {c: i * 5 // n + 1 for i, c in enumerate(order)}

    r = scores(lambda f: -(2**62) if f["recency_days"] is None else -f["recency_days"])
    fr = scores(lambda f: f["frequency"])
    m = scores(lambda f: f["balance"])
    for c, f in facts.items():
        f.update(rfm_r=r[c], rfm_f=fr[c], rfm_m=m[c])
        f["rfm_segment"] = next(
            (s.name for s in policy.tiering.rfm.segments
             if s.r_min <= r[c] <= s.r_max and s.f_min <= fr[c] <= s.f_max
             and s.m_min <= m[c] <= s.m_max), policy.tiering.rfm.otherwise)  # fmt: skip
    return facts


def abc_day(
    accounts: dict[str, list[dict[str, Any]]],
    loans: dict[str, dict[str, Any]],
    policy: Policy,
) -> dict[str, tuple[int, str]]:
    """customer → (value, ABC class) on one date: a year's interest on the balance; the value of
    the customers with a strictly greater value decides the class (docs/tiering.md)."""
    a = policy.tiering.abc
    values: dict[str, int] = {}
    for customer, rows in accounts.items():
        total = 0
        for row in rows:
            if row["account_type"] == "card":
                rate = a.card_annual_rate
            else:
                loan = loans.get(row["account_id"])
                rate = 0 if loan is None else loan["annual_rate"]
            total += row["outstanding_principal"] * rate // 100_000_000
        values[customer] = total
    everything = sum(v for v in values.values() if v > 0)
    found: dict[str, tuple[int, str]] = {}
    for customer, value in values.items():
        ahead = sum(v for v in values.values() if v > value)
        if value <= 0:
            cls = "C"
        elif ahead * 100 < a.a_max_share_percent * everything:
            cls = "A"
        elif ahead * 100 < a.b_max_share_percent * everything:
            cls = "B"
        else:
            cls = "C"
        found[customer] = (value, cls)
    return found
