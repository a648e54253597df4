"""Other areas' rows on top of the hand-built history (tests/management/conftest.py): churn's
identified customers and churn dates, relationship's complaints and survey answers, and
collectors with a reassignment log — written straight into the store, drawn from a seeded
generator, so the pack's figures from those areas (and its team and collector breakdowns) can
be recomputed in plain Python."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from postloan.access.tables import users
from postloan.churn.tables import RULE_COLUMNS, churn_dates, churn_identified
from postloan.collections.casework_tables import reassignments
from postloan.relationship.tables import complaints, survey_responses, survey_versions
from postloan.store.db import engine_for
from tests.management.conftest import MONTH_ENDS, History

COLLECTORS = {"col1": "T1", "col2": "T1", "col3": "T2", "col4": None}


@dataclass
class AreaRows:
    identified: list[dict[str, Any]]
    complaints: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    log: list[dict[str, Any]]  # reassignments, in log order
    user_ids: dict[str, int]


def add(history: History, seed: int = 7) -> AreaRows:
    rng = random.Random(seed)
    now = datetime(2026, 7, 1, tzinfo=UTC)
    balances: dict[tuple[date, str], int] = {}
    for row in history.status:
        key = (row["as_of"], row["customer_id"])
        balances[key] = balances.get(key, 0) + row["outstanding_principal"]
    identified = []
    for day in MONTH_ENDS:
        for customer, c in history.customers.items():
            if (day, customer) not in balances or rng.random() < 0.6:
                continue
            rules = {k: rng.random() < 0.4 for k in RULE_COLUMNS}
            identified.append(
                {"as_of": day, "customer_id": customer, **rules, "branch_id": c["branch_id"],
                 "balance": balances[(day, customer)], "overdue_amount": 0, "max_dpd": 0,
                 "open_accounts": 1, "degree": "light", "grade": 1, "suggested_reason": None,
                 "evidence": "{}", "signals": "{}", "run_id": 1 if day < MONTH_ENDS[3] else 2}
            )  # fmt: skip
    customers = sorted(history.customers)
    found_complaints = []
    for k in range(30):
        received = date(2026, 1, 1) + timedelta(days=rng.randrange(180))
        decided = received + timedelta(days=rng.randrange(40)) if rng.random() < 0.7 else None
        found_complaints.append(
            {"customer_id": rng.choice(customers), "received_on": received,
             "channel": "phone", "business_type": "loan", "reason": "service",
             "department": "retail", "summary": f"投诉{k}", "complained_about": "",
             "complex": k % 4 == 0, "decided_on": decided,
             "outcome": "upheld" if decided else None, "created_by": "admin",
             "created_at": now}
        )  # fmt: skip
    answers = []
    for _k in range(60):
        customer = rng.choice(customers)
        answers.append(
            {"version_id": 1, "customer_id": customer,
             "branch_id": history.customers[customer]["branch_id"],
             "answered_on": date(2026, 1, 1) + timedelta(days=rng.randrange(181)),
             "csat": rng.randrange(1, 6), "nps": rng.randrange(0, 11), "answers": "{}",
             "source": "import", "entered_by": "admin"}
        )  # fmt: skip
    user_ids = {name: 100 + i for i, name in enumerate(COLLECTORS)}
    log = []
    for customer in customers[: len(customers) * 3 // 4]:
        holder = rng.choice(list(COLLECTORS))
        on = MONTH_ENDS[rng.randrange(3)] - timedelta(days=rng.randrange(20))
        log.append({"customer_id": customer, "kind": "allocate", "from_user_id": None,
                    "to_user_id": user_ids[holder], "business_date": on})  # fmt: skip
        if rng.random() < 0.5:
            other = rng.choice([c for c in COLLECTORS if c != holder])
            later = MONTH_ENDS[3 + rng.randrange(2)] + timedelta(days=rng.randrange(3))
            log.append({"customer_id": customer, "kind": "reassign",
                        "from_user_id": user_ids[holder], "to_user_id": user_ids[other],
                        "business_date": later})  # fmt: skip
            if rng.random() < 0.5:
                log.append({"customer_id": customer, "kind": "release",
                            "from_user_id": user_ids[other], "to_user_id": None,
                            "business_date": later + timedelta(days=20)})  # fmt: skip
    log.sort(key=lambda r: r["business_date"])
    engine = engine_for(history.url)
    with engine.begin() as conn:
        conn.execute(insert(churn_identified), identified)
        conn.execute(
            insert(churn_dates),
            [{"as_of": d, "run_id": 1 if d < MONTH_ENDS[3] else 2, "policy_version": "x",
              "identified": 0} for d in MONTH_ENDS],
        )  # fmt: skip
        conn.execute(insert(complaints), found_complaints)
        conn.execute(
            insert(survey_versions),
            [{"version_id": 1, "name": "s", "questions": json.dumps([]), "created_by": "admin",
              "created_at": now}],
        )  # fmt: skip
        conn.execute(insert(survey_responses), answers)
        conn.execute(
            insert(users),
            [{"user_id": uid, "username": name, "password_hash": "x", "role": "collector",
              "branch_id": "B1", "team": COLLECTORS[name], "active": True, "created_at": now}
             for name, uid in user_ids.items()],
        )  # fmt: skip
        conn.execute(
            insert(reassignments),
            [{**r, "reason": "test", "by": "system",
              "at": datetime.combine(r["business_date"], datetime.min.time(), tzinfo=UTC)
              + timedelta(hours=i % 5)} for i, r in enumerate(log)],
        )  # fmt: skip
    engine.dispose()
    return AreaRows(identified, found_complaints, answers, log, user_ids)
