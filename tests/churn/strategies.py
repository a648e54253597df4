"""Hypothesis strategies for churn: the engine's random portfolios (tests/strategies.py) with
customer events around their dates, policies with small churn thresholds (so every rule fires
on a few periods and months) and as-of dates where rules switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import strategies as st

from postloan.churn.rules.frames import EVENTS
from postloan.policy import Policy
from tests.strategies import Case, add_months, cases, make_policy

EVENT_TYPES = ("application", "account_closed", "transfer_out", "explanation", "contact")


@dataclass(frozen=True)
class ChurnCase:
    case: Case
    events: pl.DataFrame
    dates: tuple[date, ...]
    policy: Policy
    products: dict[str, str]

    def __repr__(self) -> str:
        return (
            f"ChurnCase(\n  {self.case!r},\n  events={self.events.to_dicts()},\n"
            f"  dates={list(self.dates)},\n  churn={self.policy.churn!r},\n"
            f"  products={self.products})"
        )


def _anchors(case: Case) -> list[date]:
    p = case.portfolio
    found: list[date] = list(case.dates)
    for frame, column in ((p.loans, "disbursement_date"), (p.cards, "open_date"),
                          (p.instalments, "due_date"), (p.statements, "due_date"),
                          (p.payments, "value_date")):  # fmt: skip
        found += [d for d in frame.get_column(column).to_list() if d is not None]
    return found or [date(2024, 6, 30)]


@st.composite
def churn_policies(draw: st.DrawFn, base: Policy) -> Policy:
    small = st.integers(1, 4)
    churn = base.churn.model_copy(
        update={
            "loan_consecutive_overdue_periods": draw(small),
            "loan_cumulative_overdue_periods": draw(small),
            "card_consecutive_months_not_paid_in_full": draw(small),
            "card_overdue_times": draw(small),
            "cumulative_lookback_months": draw(st.integers(1, 12)),
            "months_after_closing_without_reapplying": draw(st.integers(1, 6)),
            "months_after_transfer_out_without_resuming": draw(st.integers(1, 6)),
            "months_without_credit_transaction": draw(st.integers(1, 8)),
        }
    )
    return base.model_copy(update={"churn": churn})


@st.composite
def churn_cases(draw: st.DrawFn) -> ChurnCase:
    case = draw(cases(max_accounts=5, max_dates=2))
    policy = draw(churn_policies(make_policy(case.policy.order, case.policy.threshold_cents)))
    anchors = _anchors(case)
    customers = ["K1", "K2", "K3", "K4"]  # K4 has no account: events only
    events: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 8))):
        anchor = anchors[draw(st.integers(0, len(anchors) - 1))]
        kind = draw(st.integers(0, 4))
        if kind == 0:
            when = anchor
        elif kind == 1:
            when = anchor + timedelta(days=draw(st.integers(-40, 40)))
        elif kind == 2 and events:  # the same day as another event (ties: "after E" or not)
            when = events[draw(st.integers(0, len(events) - 1))]["date"]
        else:  # months before a date: lands on the rules' edges
            when = add_months(anchor, -draw(st.integers(0, 8)))
        events.append({
            "customer_id": customers[draw(st.integers(0, 3))],
            "date": when,
            "type": EVENT_TYPES[draw(st.integers(0, len(EVENT_TYPES) - 1))],
            "amount": None,
        })  # fmt: skip
    dates = set(case.dates)
    churn = policy.churn
    months = (churn.months_after_closing_without_reapplying,
              churn.months_after_transfer_out_without_resuming,
              churn.months_without_credit_transaction)  # fmt: skip
    for event in events[: draw(st.integers(0, 2))]:  # where an event's months run out
        edge = add_months(event["date"], months[draw(st.integers(0, 2))])
        dates.add(edge + timedelta(days=draw(st.integers(-1, 1))))
    for _ in range(draw(st.integers(0, 2))):
        anchor = anchors[draw(st.integers(0, len(anchors) - 1))]
        months = draw(st.integers(0, 8))
        dates.add(add_months(anchor, months) + timedelta(days=draw(st.integers(-1, 1))))
    products: dict[str, str] = {}
    if draw(st.integers(0, 3)) == 0 and case.portfolio.loans.height:
        product_policy = policy.churn.model_copy(
            update={"products": {"special": policy.churn.products.get("special") or _product(draw)}}
        )
        policy = policy.model_copy(update={"churn": product_policy})
        for loan_id in case.portfolio.loans.get_column("account_id").to_list():
            if draw(st.booleans()):
                products[loan_id] = "special"
    return ChurnCase(
        case, pl.DataFrame(events, schema=EVENTS), tuple(sorted(dates)), policy, products
    )


def _product(draw: st.DrawFn) -> Any:
    from postloan.policy.churn import ProductThresholds

    return ProductThresholds(
        loan_consecutive_overdue_periods=draw(st.one_of(st.none(), st.integers(1, 4))),
        loan_cumulative_overdue_periods=draw(st.one_of(st.none(), st.integers(1, 4))),
    )
