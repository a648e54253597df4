"""Cases from daily status: the vectorised transition against a plain per-customer loop, and a
customer walked through every bucket to cure."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.collections.cases import OPEN_CASES, STAGE_RANK, case_changes
from postloan.engine.frames import ACCOUNT_STATUS
from postloan.policy import default_policy
from tests.conftest import examples

POLICY = default_policy()
D = date(2026, 6, 30)


def _status(rows: list[dict[str, Any]], as_of: date = D) -> pl.DataFrame:
    full = []
    for r in rows:
        dpd = r["dpd"]
        full.append(
            {
                "account_id": r["account_id"], "customer_id": r["customer_id"],
                "account_type": "loan", "as_of": as_of, "outstanding_principal": 100_000,
                "overdue_principal": r.get("overdue", 0), "overdue_interest": 0,
                "overdue_amount": r.get("overdue", 0), "dpd": dpd,
                "bucket": POLICY.bucket_for(dpd), "risk_class": "normal",
                "consecutive_overdue_periods": 0, "cumulative_overdue_periods": 0,
                "last_payment_date": None,
            }
        )  # fmt: skip
    return pl.DataFrame(full, schema=ACCOUNT_STATUS)


def _reference(open_cases: dict[str, tuple[int, str]], rows: list[dict[str, Any]]) -> dict:
    """The obvious loop: per customer, worst DPD -> stage; compare with the open case."""
    worst: dict[str, int] = {}
    amount: dict[str, int] = {}
    accounts: dict[str, list[str]] = {}
    for r in rows:
        if r["dpd"] > 0:
            c = r["customer_id"]
            worst[c] = max(worst.get(c, 0), r["dpd"])
            amount[c] = amount.get(c, 0) + r.get("overdue", 0)
            accounts.setdefault(c, []).append(r["account_id"])
    stage = {c: POLICY.collections.stages[POLICY.bucket_for(d)] for c, d in worst.items()}
    opened = sorted(
        (c, stage[c], worst[c], amount[c], sorted(accounts[c]))
        for c in worst
        if c not in open_cases
    )
    moved = sorted(
        (case_id, c, old, stage[c])
        for c, (case_id, old) in open_cases.items()
        if c in worst and stage[c] != old
    )
    closed = sorted((case_id, c) for c, (case_id, _) in open_cases.items() if c not in worst)
    return {"opened": opened, "moved": moved, "closed": closed}


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "customer_id": st.sampled_from([f"K{i}" for i in range(8)]),
            "dpd": st.one_of(st.just(0), st.integers(0, 200)),
            "overdue": st.integers(0, 50_000),
        }
    ),
    max_size=25,
)
OPEN = st.dictionaries(
    st.sampled_from([f"K{i}" for i in range(8)]),
    st.sampled_from(["reminder", "negotiation", "intensified", "legal_review"]),
    max_size=8,
)


@settings(max_examples=examples(0.4))
@given(ROWS, OPEN)
def test_case_changes_equal_the_plain_loop(rows: list[dict[str, Any]], open_: dict) -> None:
    for i, r in enumerate(rows):
        r["account_id"] = f"A{i:03d}"
    open_cases = {c: (100 + n, s) for n, (c, s) in enumerate(sorted(open_.items()))}
    frame = pl.DataFrame(
        [{"case_id": cid, "customer_id": c, "stage": s} for c, (cid, s) in open_cases.items()],
        schema=OPEN_CASES,
    )
    got = case_changes(frame, _status(rows), POLICY, D)
    want = _reference(open_cases, rows)
    assert [
        (r["customer_id"], r["stage"], r["max_dpd"], r["overdue_amount"], r["accounts"])
        for r in got.opened.iter_rows(named=True)
    ] == want["opened"]
    assert [
        (r["case_id"], r["customer_id"], r["from_stage"], r["to_stage"])
        for r in got.moved.iter_rows(named=True)
    ] == want["moved"]
    assert [(r["case_id"], r["customer_id"]) for r in got.closed.iter_rows(named=True)] == want[
        "closed"
    ]
    assert got.current.height == len({r["customer_id"] for r in rows if r["dpd"] > 0})


def test_one_customer_through_every_bucket_to_cure() -> None:
    """Current -> 5 DPD (opened, reminder) -> 35 (negotiation) -> 65 (intensified) -> 95 (legal
    review), a second account overdue meanwhile (same case), then everything paid (closed)."""
    open_cases = pl.DataFrame(schema=OPEN_CASES)
    path = [
        ([0, 0], None),
        ([5, 0], ("open", "reminder")),
        ([35, 3], ("move", "negotiation")),
        ([65, 33], ("move", "intensified")),
        ([95, 63], ("move", "legal_review")),
        ([96, 0], None),
        ([0, 0], ("close", "cured")),
    ]
    for day, (dpds, expected) in enumerate(path):
        rows = [
            {"customer_id": "K1", "account_id": f"L{n}", "dpd": dpd, "overdue": 1_000 * dpd}
            for n, dpd in enumerate(dpds)
        ]
        changes = case_changes(open_cases, _status(rows), POLICY, D + timedelta(days=day))
        kinds = (changes.opened.height, changes.moved.height, changes.closed.height)
        if expected is None:
            assert kinds == (0, 0, 0), day
        elif expected[0] == "open":
            assert kinds == (1, 0, 0) and changes.opened["stage"][0] == expected[1]
            assert changes.opened["accounts"][0].to_list() == ["L0"]
        elif expected[0] == "move":
            assert kinds == (0, 1, 0) and changes.moved["to_stage"][0] == expected[1]
            assert STAGE_RANK[expected[1]] > STAGE_RANK[changes.moved["from_stage"][0]]
        else:
            assert kinds == (0, 0, 1) and changes.closed["reason"][0] == "cured"
        # carry the open cases to the next day, as the store would
        current = changes.current.with_columns(pl.col("case_id").fill_null(1))
        open_cases = current.select(OPEN_CASES.keys()).cast(OPEN_CASES)  # type: ignore[arg-type]
    assert open_cases.height == 0
