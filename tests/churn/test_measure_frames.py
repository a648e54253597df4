"""The daily step's frame forms of the win-back contact policy (`winback_refusals`) and of the
offers (`offer_frame`) give, row for row, what the plain one-customer rules (`check_winback`,
`propose_offers`) give — text included, so a re-run that derives the same thing writes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.churn.rules.frames import RULES
from postloan.churn.rules.measures import (
    HANDOVER,
    KINDS,
    MarketingFacts,
    check_winback,
    held_out,
    holdout_draw,
    holdout_draws,
    in_holdout,
    offer_frame,
    propose_offers,
    rules_text,
    winback_refusals,
)
from postloan.policy import default_policy

POLICY = default_policy()
DAYS = st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2026, 12, 31)))

contact = st.fixed_dictionaries({
    "kind": st.sampled_from(KINDS),
    "channel": st.sampled_from(["phone", "sms", "email", "collections"]),
    "consent": st.booleans(),
    "consent_since": DAYS,
    "opted_out": st.booleans(),
    "closed_on": DAYS,
})  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(contact, min_size=1, max_size=30))
def test_winback_refusals_are_check_winback_row_by_row(rows: list[dict[str, Any]]) -> None:
    frame = pl.DataFrame(rows, schema={"kind": pl.String, "channel": pl.String,
                                       "consent": pl.Boolean, "consent_since": pl.Date,
                                       "opted_out": pl.Boolean, "closed_on": pl.Date})  # fmt: skip
    got = winback_refusals(frame).to_dicts()
    for row, out in zip(rows, got, strict=True):
        opted = frozenset([row["channel"]]) if row["opted_out"] else frozenset()
        broken = check_winback(row["kind"], row["channel"], MarketingFacts(
            row["consent"], row["consent_since"], opted, row["closed_on"]))  # fmt: skip
        assert out["refused_rules"] == (rules_text(broken) or None)
        assert out["refusal_detail"] == (
            "; ".join(f"{v.rule}: {v.message}" for v in broken) or None
        )
        assert out["status"] == ("refused" if broken else "open")
        if row["kind"] == HANDOVER:
            assert out["status"] == "open"  # recovery of a debt, not marketing


offer_input = st.fixed_dictionaries({
    **{r: st.booleans() for r in RULES},
    "suggested_reason": st.sampled_from([None, "competition", "policy", "service", "macro",
                                         "customer", "credit"]),
    "overdue_amount": st.sampled_from([0, 1, 5_000_00]),
})  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(offer_input, min_size=1, max_size=20))
def test_offer_frame_is_propose_offers_row_by_row(rows: list[dict[str, Any]]) -> None:
    frame = pl.DataFrame(
        [{"measure_id": i + 1, **r} for i, r in enumerate(rows)],
        schema={"measure_id": pl.Int64, **dict.fromkeys(RULES, pl.Boolean),
                "suggested_reason": pl.String, "overdue_amount": pl.Int64},
    )  # fmt: skip
    got = offer_frame(frame, RULES, POLICY)
    for i, r in enumerate(rows):
        held = [k for k in RULES if r[k]]
        want = sorted((o.kind, o.terms_json(), o.basis_json()) for o in propose_offers(
            held, r["suggested_reason"], r["overdue_amount"], POLICY))  # fmt: skip
        mine = got.filter(pl.col("measure_id") == i + 1).select("kind", "terms", "basis")
        assert sorted(mine.iter_rows()) == want


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.text(min_size=0, max_size=40),
                       st.dates(date(2000, 1, 1), date(2099, 12, 31))),
             min_size=0, max_size=40),
    st.integers(0, 2**40),
)  # fmt: skip
def test_holdout_draws_are_holdout_draw_per_episode(
    episodes: list[tuple[str, date]], seed: int
) -> None:
    """Any text for a customer id (non-ASCII, NUL, different lengths in one frame)."""
    ids = pl.Series([c for c, _ in episodes], dtype=pl.String)
    days = pl.Series([d for _, d in episodes], dtype=pl.Date)
    got = holdout_draws(ids, days, seed).tolist()
    assert got == [holdout_draw(c, d, seed) for c, d in episodes]


def test_held_out_is_in_holdout() -> None:
    ids = pl.Series([f"CU{i:08d}" for i in range(3000)])
    days = pl.Series([date(2026, 1 + i % 12, 1 + i % 28) for i in range(3000)])
    got = held_out(ids, days, POLICY).to_list()
    assert got == [in_holdout(c, d, POLICY) for c, d in zip(ids, days, strict=True)]
    assert 0 < sum(got) < 3000
