"""Degree (CH-4), grade (CH-5) and the suggested reason (CH-3) under the default policy
(`docs/churn.md`): each rule from both sides of its threshold, hand-computed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from postloan.churn.rules.frames import CUSTOMERS, EVENTS, IDENTIFIED, RULES, STATUS
from postloan.churn.rules.grading import OPENINGS, grade
from postloan.policy import default_policy

D = date(2025, 6, 30)
POLICY = default_policy()


def graded(
    rules: set[str],
    *,
    dpd: int = 0,
    overdue: int = 0,
    consecutive: int = 0,
    events: list[dict[str, Any]] = (),  # type: ignore[assignment]
    income: int | None = 1_000_000,
    liabilities: int | None = 0,
    industry: str | None = "retail",
    openings: list[date] = (),  # type: ignore[assignment]
    policy: Any = POLICY,
) -> dict[str, Any]:
    identified = pl.DataFrame(
        [{"as_of": D, "customer_id": "K1", **{r: r in rules for r in RULES}, "evidence": "{}"}],
        schema=IDENTIFIED,
    )
    status = pl.DataFrame(
        [{"as_of": D, "customer_id": "K1", "balance": 5_000_000, "overdue_amount": overdue,
          "max_dpd": dpd, "max_consecutive": consecutive, "open_accounts": 1}],
        schema=STATUS,
    )  # fmt: skip
    customers = pl.DataFrame(
        [{"customer_id": "K1", "branch_id": "BR01", "industry": industry,
          "monthly_income": income, "total_liabilities": liabilities}],
        schema=CUSTOMERS,
    )  # fmt: skip
    ev = pl.DataFrame([{"customer_id": "K1", "amount": None, **e} for e in events], schema=EVENTS)
    opened = pl.DataFrame([{"customer_id": "K1", "date": d} for d in openings], schema=OPENINGS)
    row = grade(identified, status, customers, ev, opened, policy).to_dicts()[0]
    row["signals"] = json.loads(row["signals"])
    return row


# --------------------------------------------------------------------------------------------
# Degree


@pytest.mark.parametrize(("dpd", "degree"), [
    (30, "light"), (31, "moderate"), (32, "moderate"), (90, "moderate"), (91, "severe"),
    (92, "severe"),
])  # fmt: skip
def test_degree_by_worst_dpd(dpd: int, degree: str) -> None:
    assert graded({"loan_overdue"}, dpd=dpd, overdue=1)["degree"] == degree


@pytest.mark.parametrize("rule", ["closed_not_reapplied", "transferred_out"])
def test_closed_or_transferred_is_severe(rule: str) -> None:
    assert graded({rule})["degree"] == "severe"


@pytest.mark.parametrize(("consecutive", "degree"), [(1, "light"), (2, "moderate"),
                                                     (3, "moderate")])  # fmt: skip
def test_degree_by_consecutive_overdue_periods(consecutive: int, degree: str) -> None:
    assert graded({"card_default"}, consecutive=consecutive)["degree"] == degree


def test_an_inactive_customer_who_still_talks_to_the_lender_is_light() -> None:
    assert graded({"inactive"})["degree"] == "moderate"  # no contact at all
    recent = [{"date": D - timedelta(days=100), "type": "contact"}]
    assert graded({"inactive"}, events=recent)["degree"] == "light"
    old = [{"date": date(2024, 12, 30), "type": "contact"}]  # exactly 6 months before D
    assert graded({"inactive"}, events=old)["degree"] == "moderate"
    inside = [{"date": date(2024, 12, 31), "type": "contact"}]
    assert graded({"inactive"}, events=inside)["degree"] == "light"


# --------------------------------------------------------------------------------------------
# Grade


@pytest.mark.parametrize(("dpd", "level"), [(30, 3), (31, 2), (90, 2), (91, 1)])
def test_grade_by_worst_dpd(dpd: int, level: int) -> None:
    assert graded({"loan_overdue"}, dpd=dpd, overdue=100)["grade"] == level


@pytest.mark.parametrize(("overdue", "level"), [
    (1_999_999, 3), (2_000_000, 2), (9_999_999, 2), (10_000_000, 1), (10_000_001, 1),
])  # fmt: skip
def test_grade_by_overdue_amount(overdue: int, level: int) -> None:
    # 20,000.00 and 100,000.00 (whole units in the policy, minor units here)
    assert graded({"loan_overdue"}, dpd=5, overdue=overdue)["grade"] == level


def test_an_asset_transfer_while_owing_is_suspected_malicious_default() -> None:
    transfer = [{"date": D - timedelta(days=30), "type": "asset_transfer"}]
    assert graded({"loan_overdue"}, dpd=5, overdue=100, events=transfer)["grade"] == 1
    assert graded({"transferred_out"}, events=transfer)["grade"] == 3  # owes nothing overdue
    long_ago = [{"date": date(2024, 6, 30), "type": "asset_transfer"}]  # 12 months: out
    assert graded({"loan_overdue"}, dpd=5, overdue=100, events=long_ago)["grade"] == 3
    lawsuit = [{"date": D - timedelta(days=30), "type": "lawsuit"}]
    assert graded({"loan_overdue"}, dpd=5, overdue=100, events=lawsuit)["grade"] == 3
    strict = POLICY.model_copy(update={"churn": POLICY.churn.model_copy(update={
        "grade": POLICY.churn.grade.model_copy(
            update={"malicious_signals": ["asset_transfer", "lawsuit"]})})})  # fmt: skip
    assert graded({"loan_overdue"}, dpd=5, overdue=100, events=lawsuit, policy=strict)[
        "grade"] == 1  # fmt: skip


def test_a_capacity_problem_with_an_overdue_rule_is_level_2() -> None:
    drop = [{"date": D - timedelta(days=10), "type": "income_change", "amount": 700_000}]
    assert graded({"card_default"}, events=drop)["grade"] == 2  # 30 % below 10,000.00
    small = [{"date": D - timedelta(days=10), "type": "income_change", "amount": 700_001}]
    assert graded({"card_default"}, events=small)["grade"] == 3  # 29 %
    assert graded({"card_default"}, liabilities=36_000_001)["grade"] == 2  # > 3 years' income
    assert graded({"card_default"}, liabilities=36_000_000)["grade"] == 3
    assert graded({"inactive"}, liabilities=50_000_000)["grade"] == 3  # no overdue at all
    row = graded({"card_default"}, events=drop)
    assert row["signals"]["income_drop_percent"] == 30 and row["signals"]["capacity_problem"]


# --------------------------------------------------------------------------------------------
# Reason


def test_reason_classes_in_order() -> None:
    complaint = {"date": D - timedelta(days=60), "type": "complaint"}
    transfer = {"date": D - timedelta(days=200), "type": "transfer_out"}
    assert graded({"transferred_out"}, events=[complaint, transfer])["suggested_reason"] == \
        "service"  # fmt: skip
    assert graded({"transferred_out"}, events=[transfer])["suggested_reason"] == "competition"
    assert graded({"inactive"}, events=[transfer])["suggested_reason"] == "competition"
    stressed = POLICY.model_copy(update={"churn": POLICY.churn.model_copy(update={
        "reasons": POLICY.churn.reasons.model_copy(update={"stressed_industries": ["retail"]})
    })})  # fmt: skip
    assert graded({"loan_overdue"}, overdue=1, policy=stressed)["suggested_reason"] == "macro"
    drop = {"date": D - timedelta(days=10), "type": "income_change", "amount": 500_000}
    assert graded({"loan_overdue"}, overdue=1, events=[drop])["suggested_reason"] == "macro"
    assert graded({"inactive"}, events=[drop])["suggested_reason"] == "marketing"
    assert graded({"loan_overdue"}, overdue=1)["suggested_reason"] is None


def test_policy_an_application_with_no_account_within_60_days() -> None:
    applied = D - timedelta(days=90)
    case = {"events": [{"date": applied, "type": "application"}]}
    assert graded({"inactive"}, **case)["suggested_reason"] == "policy"
    answered = graded({"inactive"}, openings=[applied + timedelta(days=60)], **case)
    assert answered["suggested_reason"] == "marketing"
    too_recent = {"events": [{"date": D - timedelta(days=59), "type": "application"}]}
    assert graded({"inactive"}, **too_recent)["suggested_reason"] == "marketing"


def test_customer_own_pays_up_then_closes() -> None:
    assert graded({"closed_not_reapplied"})["suggested_reason"] == "customer_own"
    assert graded({"closed_not_reapplied", "loan_overdue"})["suggested_reason"] is None
    contact = [{"date": D - timedelta(days=5), "type": "contact"}]
    assert graded({"inactive"}, events=contact)["suggested_reason"] is None
