"""Classification of restructured loans: the vectorised rules (`engine.restructure`) against a
plain day-by-day walk of each account, and named cases worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.engine.restructure import AGREED_DUES, DPD_HISTORY, RESTRUCTURINGS, classify
from postloan.ledger import add_months
from postloan.policy import Policy, default_policy
from postloan.policy.restructuring import CLASS_ORDER
from tests.conftest import examples

D0 = date(2025, 1, 1)


def _policy(periods: int = 2, months: int = 12, gap: int = 1) -> Policy:
    base = default_policy()
    section = base.restructuring.model_copy(
        update={
            "observation_min_periods": periods,
            "observation_min_months": months,
            "missed_payment_min_dpd": gap,
        }
    )
    return base.model_copy(update={"restructuring": section})


def _worst(*classes: str) -> str:
    return CLASS_ORDER[max(CLASS_ORDER.index(c) for c in classes)]


def reference(
    days: list[dict[str, Any]],
    agreements: list[dict[str, Any]],
    dues: dict[int, list[date]],
    policy: Policy,
) -> dict[tuple[str, date], tuple]:
    """(account, day) -> (risk_class, restructured), walking each account's days in order."""
    r = policy.restructuring
    n, months, gap = r.observation_min_periods, r.observation_min_months, r.missed_payment_min_dpd

    def end_from(agreed: list[date], i: int) -> date:
        return max(add_months(agreed[i], months), agreed[min(i + n - 1, len(agreed) - 1)])

    out: dict[tuple[str, date], tuple] = {}
    for account in sorted({d["account_id"] for d in days}):
        current = None
        end: date | None = None
        missed = active = False
        for row in sorted(
            (d for d in days if d["account_id"] == account), key=lambda d: d["as_of"]
        ):
            day = row["as_of"]
            mine = [
                a for a in agreements if a["account_id"] == account and a["effective_date"] <= day
            ]
            agreement = max(mine, key=lambda a: a["effective_date"]) if mine else None
            if agreement is None:
                out[(account, day)] = (row["risk_class"], False)
                continue
            agreed = dues[agreement["agreement_id"]]
            if agreement is not current:  # a new restructuring: a new observation period
                current, end, missed, active = agreement, end_from(agreed, 0), False, True
            if active:
                if row["dpd"] >= gap and (end is None or day <= end + timedelta(days=gap)):
                    missed = True
                    later = [i for i, due in enumerate(agreed) if due > day]
                    end = end_from(agreed, later[0]) if later else None
                if end is not None and day > end + timedelta(days=gap - 1):
                    active = False
            if not active:
                out[(account, day)] = (row["risk_class"], False)
                continue
            floor = _worst(r.class_in_observation, agreement["class_at_restructuring"])
            if missed or agreement["repeat"]:
                floor = _worst(floor, r.class_after_missed_payment)
            out[(account, day)] = (_worst(row["risk_class"], floor), True)
    return out


def _run(
    days: list[dict[str, Any]],
    agreements: list[dict[str, Any]],
    dues: dict[int, list[date]],
    policy: Policy,
    cut: date,
) -> dict:
    """classify() over the days from `cut` on, the earlier ones given as history."""
    frame = pl.DataFrame(days, schema={**DPD_HISTORY, "risk_class": pl.String})
    status = frame.filter(pl.col("as_of") >= cut)
    history = frame.filter(pl.col("as_of") < cut).select(list(DPD_HISTORY))
    due_rows = [{"agreement_id": k, "due_date": d} for k, v in dues.items() for d in v]
    got = classify(
        status,
        pl.DataFrame(agreements, schema=RESTRUCTURINGS),
        pl.DataFrame(due_rows, schema=AGREED_DUES),
        history,
        policy,
    )
    assert got.height == status.height
    return {
        (r["account_id"], r["as_of"]): (r["risk_class"], r["restructured"]) for r in got.to_dicts()
    }


SPAN = 420  # days per account: a daily run over ~14 months
ACCOUNT = st.fixed_dictionaries(
    {
        "skipped": st.lists(st.integers(0, SPAN - 1), max_size=8),  # dates never run
        # late episodes: (first day, length) — DPD counts 1, 2, 3 … through each
        "late": st.lists(st.tuples(st.integers(0, SPAN - 1), st.integers(1, 45)), max_size=4),
        # agreed instalments paid late: (which agreed due date, days late)
        "missed": st.lists(st.tuples(st.integers(0, 13), st.integers(1, 45)), max_size=3),
        "agreements": st.lists(
            st.fixed_dictionaries(
                {
                    "effective": st.integers(0, 300),
                    "first_due": st.integers(0, 40),
                    "count": st.integers(1, 14),
                    "class_at": st.sampled_from(CLASS_ORDER),
                    "repeat": st.booleans(),
                }
            ),
            max_size=2,
            unique_by=lambda a: a["effective"],
        ),
    }
)


@settings(max_examples=examples(0.4))
@given(
    st.lists(ACCOUNT, min_size=1, max_size=3),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 8),
    st.integers(0, SPAN),
)
def test_classify_equals_the_day_by_day_walk(
    accounts: list[dict[str, Any]], periods: int, months: int, gap: int, cut_day: int
) -> None:
    policy = _policy(periods, months, gap)
    days: list[dict[str, Any]] = []
    agreements: list[dict[str, Any]] = []
    dues: dict[int, list[date]] = {}
    for k, acc in enumerate(accounts):
        account = f"A{k}"
        late = list(acc["late"])
        if acc["agreements"]:
            a = acc["agreements"][0]
            first_due = D0 + timedelta(days=a["effective"] + a["first_due"])
            for which, length in acc["missed"]:
                due = add_months(first_due, which % a["count"])
                late.append(((due - D0).days + 1, length))
        dpd = [0] * SPAN
        for first, length in late:
            for i in range(max(first, 0), min(first + length, SPAN)):
                dpd[i] = max(dpd[i], i - first + 1)
        for i in range(SPAN):
            if i not in acc["skipped"]:
                days.append(
                    {
                        "account_id": account,
                        "as_of": D0 + timedelta(days=i),
                        "dpd": dpd[i],
                        "risk_class": policy.risk_class_for(dpd[i], "loan"),
                    }
                )
        for a in acc["agreements"]:
            agreement_id = len(agreements) + 1
            effective = D0 + timedelta(days=a["effective"])
            agreements.append(
                {
                    "agreement_id": agreement_id,
                    "account_id": account,
                    "effective_date": effective,
                    "class_at_restructuring": a["class_at"],
                    "repeat": a["repeat"],
                }
            )
            first = effective + timedelta(days=a["first_due"])
            dues[agreement_id] = [add_months(first, i) for i in range(a["count"])]
    cut = D0 + timedelta(days=cut_day)
    expected = reference(days, agreements, dues, policy)
    got = _run(days, agreements, dues, policy, cut)
    assert got == {k: v for k, v in expected.items() if k[1] >= cut}


# Named cases: one loan restructured on 2025-03-01 at 45 DPD (class 关注), agreed instalments due
# on the 10th from 2025-04-10 for 12 months; default policy (2 periods, 12 months, miss at 1 DPD).
EFFECTIVE = date(2025, 3, 1)
AGREED = [add_months(date(2025, 4, 10), i) for i in range(12)]


def _one_loan(
    dpd_on: dict[date, int], class_at: str = "special_mention", repeat: bool = False
) -> dict[date, tuple]:
    days = [
        {
            "account_id": "L",
            "as_of": EFFECTIVE - timedelta(days=1) + timedelta(days=i),
            "dpd": 0,
            "risk_class": "normal",
        }
        for i in range(500)
    ]
    for row in days:
        dpd = dpd_on.get(row["as_of"], 0)
        row["dpd"] = dpd
        row["risk_class"] = default_policy().risk_class_for(dpd, "loan")
    agreement = {
        "agreement_id": 1,
        "account_id": "L",
        "effective_date": EFFECTIVE,
        "class_at_restructuring": class_at,
        "repeat": repeat,
    }
    got = _run(days, [agreement], {1: AGREED}, default_policy(), days[0]["as_of"])
    return {k[1]: v for k, v in got.items()}


def test_capped_during_observation_then_normal_after_a_year() -> None:
    got = _one_loan({})
    assert got[EFFECTIVE - timedelta(days=1)] == ("normal", False)  # before the agreement
    assert got[EFFECTIVE] == ("special_mention", True)  # 0 DPD, yet 关注
    # observation: from 2025-04-10, 2 periods (to 05-10) and 12 months (to 2026-04-10)
    assert got[date(2026, 4, 10)] == ("special_mention", True)
    assert got[date(2026, 4, 11)] == ("normal", False)


def test_a_missed_payment_makes_it_substandard_and_restarts_the_period() -> None:
    # the 2025-06-10 instalment paid 3 days late: 1..3 DPD on 06-11..06-13
    late = {date(2025, 6, 11) + timedelta(days=i): i + 1 for i in range(3)}
    got = _one_loan(late)
    assert got[date(2025, 6, 10)] == ("special_mention", True)
    # 3 DPD is inside the technical grace (normal by DPD) — but a missed agreed payment
    assert got[date(2025, 6, 11)] == ("substandard", True)
    assert got[date(2025, 8, 1)] == ("substandard", True)  # stays, after paying up
    # restarted at the next agreed due date after the miss, 2025-07-10: ends 2026-07-10
    assert got[date(2026, 7, 10)] == ("substandard", True)
    assert got[date(2026, 7, 11)] == ("normal", False)


def test_non_performing_at_restructuring_stays_so_and_a_repeat_is_substandard() -> None:
    assert _one_loan({}, class_at="doubtful")[date(2025, 9, 1)] == ("doubtful", True)
    assert _one_loan({}, repeat=True)[date(2025, 9, 1)] == ("substandard", True)


def test_a_miss_after_the_period_is_ordinary_overdue() -> None:
    got = _one_loan({date(2026, 5, 11): 1})
    assert got[date(2026, 5, 11)] == ("normal", False)  # 1 DPD: technical grace, no cap
