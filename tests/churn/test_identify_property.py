"""Property: the vectorised identification (`churn.rules.identify`) equals the plain
per-customer reference written from the contract (tests/churn/reference.py) — every rule of
every customer on every date, over random portfolios (partial, late, backdated, reversed
payments; cards; month ends), random events and small thresholds."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import given, settings

from postloan.churn.rules.frames import RULES
from postloan.churn.rules.identify import ChurnInputs, identify
from tests.churn.reference import reference_churn, reference_evidence
from tests.churn.strategies import ChurnCase, churn_cases
from tests.conftest import examples


@settings(max_examples=examples(0.6))
@given(churn_cases())
def test_identification_equals_the_reference(c: ChurnCase) -> None:
    products = pl.DataFrame(
        {"account_id": list(c.products), "product": list(c.products.values())},
        schema={"account_id": pl.String, "product": pl.String},
    )
    inputs = ChurnInputs(c.case.portfolio, c.events, loan_products=products)
    found = identify(inputs, list(c.dates), c.policy)
    for day in c.dates:
        got = {
            r["customer_id"]: {rule: r[rule] for rule in RULES}
            for r in found.filter(pl.col("as_of") == day).to_dicts()
        }
        want = reference_churn(c.case.portfolio, c.events.to_dicts(), day, c.policy, c.products)
        assert got == want, (day, got, want)
        # The evidence of (a) and (b): each account meeting the rule with its exact counts.
        counts = {
            r["customer_id"]: {
                rule: sorted(tuple(a.values()) for a in json.loads(r["evidence"])[rule] or [])
                for rule in ("loan_overdue", "card_default")
                if json.loads(r["evidence"])[rule]
            }
            for r in found.filter(pl.col("as_of") == day).to_dicts()
        }
        expected = reference_evidence(
            c.case.portfolio, c.events.to_dicts(), day, c.policy, c.products
        )
        assert {k: v for k, v in counts.items() if v} == {
            k: {rule: sorted(rows) for rule, rows in v.items()} for k, v in expected.items()
        }, day
