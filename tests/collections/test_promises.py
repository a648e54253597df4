"""Promises to pay: kept / broken / pending from the payments, against a plain loop; a broken
promise raises the case's priority in the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from postloan.collections.cases import STAGE_RANK
from postloan.collections.contacts import Contact, record_contact
from postloan.collections.promises import (
    BROKEN_WEIGHT,
    PAYMENTS,
    PROMISES,
    promise_outcomes,
    update_promises,
)
from postloan.collections.tables import cases, promises
from postloan.policy import default_policy
from postloan.store.db import engine_for
from postloan.store.schema import customers, loans, payments, runs
from tests.conftest import examples

D0 = date(2026, 3, 1)
DAY = st.integers(0, 30).map(lambda n: D0 + timedelta(days=n))


def _reference(prom: list[dict[str, Any]], pays: list[dict[str, Any]], as_of: date) -> list:
    undone = {p["reverses_payment_id"] for p in pays
              if p["reverses_payment_id"] and p["value_date"] <= as_of}  # fmt: skip
    out = []
    for pr in sorted(prom, key=lambda p: p["promise_id"]):
        total, kept_on = 0, None
        counted = sorted(
            (p for p in pays
             if p["reverses_payment_id"] is None and p["payment_id"] not in undone
             and p["value_date"] <= as_of and p["customer_id"] == pr["customer_id"]
             and pr["made_on"] <= p["value_date"] <= pr["due_on"]
             and pr["account_id"] in (None, p["account_id"])),
            key=lambda p: p["value_date"],
        )  # fmt: skip
        for p in counted:
            total += p["amount"]
            if total >= pr["amount"]:
                kept_on = p["value_date"]
                break
        if kept_on is not None:
            out.append((pr["promise_id"], "kept", kept_on))
        elif pr["due_on"] + timedelta(days=1) <= as_of:
            out.append((pr["promise_id"], "broken", pr["due_on"] + timedelta(days=1)))
        else:
            out.append((pr["promise_id"], "pending", None))
    return out


PROMISE = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["K1", "K2"]),
        "account_id": st.sampled_from([None, "A1", "A2"]),
        "amount": st.one_of(st.sampled_from([500, 1_000]), st.integers(1, 3_000)),
        "made_on": DAY,
        "length": st.integers(0, 10),
    }
)
PAYMENT = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["K1", "K2"]),
        "account_id": st.sampled_from(["A1", "A2"]),
        "value_date": DAY,
        # often exactly a promised amount, or half of one: the kept-at-equality boundary
        "amount": st.one_of(st.sampled_from([500, 1_000]), st.integers(1, 2_000)),
        "reversed": st.booleans(),
        "reversed_after": st.integers(0, 10),
    }
)


EXACT = (  # paid exactly the promised amount: kept (the boundary)
    [{"customer_id": "K1", "account_id": None, "amount": 500, "made_on": D0, "length": 5}],
    [{"customer_id": "K1", "account_id": "A1", "value_date": D0 + timedelta(days=1),
      "amount": 500, "reversed": False, "reversed_after": 0}],
    D0 + timedelta(days=10),
)  # fmt: skip


@settings(max_examples=examples(0.4))
@given(st.lists(PROMISE, max_size=6), st.lists(PAYMENT, max_size=12), DAY)
@example(*EXACT)
def test_outcomes_equal_the_plain_loop(prom: list[dict], pays: list[dict], as_of: date) -> None:
    promise_rows = [
        {"promise_id": i, "customer_id": p["customer_id"], "account_id": p["account_id"],
         "amount": p["amount"], "made_on": p["made_on"],
         "due_on": p["made_on"] + timedelta(days=p["length"])}
        for i, p in enumerate(prom)
    ]  # fmt: skip
    payment_rows: list[dict[str, Any]] = []
    for i, p in enumerate(pays):
        row = {"payment_id": f"p{i}", "customer_id": p["customer_id"],
               "account_id": p["account_id"], "value_date": p["value_date"],
               "amount": p["amount"], "reverses_payment_id": None}  # fmt: skip
        payment_rows.append(row)
        if p["reversed"]:
            payment_rows.append(
                {**row, "payment_id": f"r{i}", "reverses_payment_id": f"p{i}",
                 "value_date": p["value_date"] + timedelta(days=p["reversed_after"])}
            )  # fmt: skip
    got = promise_outcomes(
        pl.DataFrame(promise_rows, schema=PROMISES), pl.DataFrame(payment_rows, schema=PAYMENTS),
        as_of,
    )  # fmt: skip
    assert [tuple(r) for r in got.iter_rows()] == _reference(promise_rows, payment_rows, as_of)


def test_a_broken_promise_raises_the_case_priority(make_store: Any, tmp_path: Path) -> None:
    url = make_store("sqlite")
    engine = engine_for(url)
    bj = ZoneInfo("Asia/Shanghai")
    with engine.begin() as conn:
        for cid in ("K1", "K2"):
            conn.execute(customers.insert().values(customer_id=cid, name=cid, id_type="prc_id"))
            conn.execute(
                loans.insert().values(
                    loan_id=f"L{cid}", customer_id=cid, principal=1_000_000, annual_rate=0,
                    term_months=10, repayment_method="equal_principal",
                    disbursement_date=date(2026, 1, 1),
                )
            )  # fmt: skip
        run_id = conn.execute(
            runs.insert().values(
                kind="daily", date_from=D0, date_to=D0, status="succeeded",
                policy_version=_policy_version(conn), started_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]  # fmt: skip
        for cid in ("K1", "K2"):
            conn.execute(
                cases.insert().values(
                    customer_id=cid, status="open", stage="reminder", opened_on=D0,
                    opened_max_dpd=5, opened_overdue_amount=100_000, opened_run_id=run_id,
                )
            )  # fmt: skip
            record_contact(
                conn, Contact(cid, datetime(2026, 3, 2, 10, tzinfo=bj), "phone", ("wang",),
                              "promise_to_pay"),
                default_policy(), recorded_by="wang", promise=(50_000, date(2026, 3, 6)),
            )  # fmt: skip
        # K1 pays in two parts before the due date; K2 pays too little
        conn.execute(payments.insert(), [
            {"payment_id": "P1", "account_id": "LK1", "value_date": date(2026, 3, 3),
             "amount": 20_000},
            {"payment_id": "P2", "account_id": "LK1", "value_date": date(2026, 3, 5),
             "amount": 30_000},
            {"payment_id": "P3", "account_id": "LK2", "value_date": date(2026, 3, 4),
             "amount": 10_000},
        ])  # fmt: skip
        assert update_promises(conn, date(2026, 3, 6)) == {"kept": 1, "pending": 1}
        assert update_promises(conn, date(2026, 3, 7)) == {"kept": 1, "broken": 1}
        rows = {r.customer_id: (r.status, r.decided_on) for r in conn.execute(select(promises))}
        priority = dict(conn.execute(select(cases.c.customer_id, cases.c.priority)).all())
    engine.dispose()
    assert rows["K1"] == ("kept", date(2026, 3, 5))
    assert rows["K2"] == ("broken", date(2026, 3, 7))
    assert priority["K1"] == STAGE_RANK["reminder"]
    assert priority["K2"] == STAGE_RANK["reminder"] + BROKEN_WEIGHT


def _policy_version(conn: Any) -> str:
    from postloan.api.routes.policy import record_version

    policy = default_policy()
    record_version(conn, policy, datetime.now(UTC))
    return policy.version
