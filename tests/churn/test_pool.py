"""The pool's pure rules: episodes (`walk`) continued from any date give what one walk over
every date gives; exit reasons; screening dates and the screening itself."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.churn.rules.frames import RULES
from postloan.churn.rules.pool import (
    FACTS,
    LIVE,
    exit_reasons,
    rules_text,
    screen,
    screening_dates,
    walk,
)
from postloan.policy import default_policy
from tests.conftest import examples

DAYS = [date(2025, 1, 1) + timedelta(days=3 * i) for i in range(12)]
CUSTOMERS = ["A", "B", "C", "D"]


def identified(rows: list[tuple[date, str, str]]) -> pl.DataFrame:
    """(as_of, customer, rule) → the identification frame walk reads."""
    return pl.DataFrame(
        [{"as_of": d, "customer_id": c, **{r: r == rule for r in RULES}} for d, c, rule in rows],
        schema={"as_of": pl.Date, "customer_id": pl.String, **dict.fromkeys(RULES, pl.Boolean)},
    )


def test_episodes_enter_and_leave() -> None:
    rows = identified([
        (DAYS[0], "A", "inactive"), (DAYS[1], "A", "inactive"),
        (DAYS[2], "A", "loan_overdue"), (DAYS[1], "B", "card_default"),
        (DAYS[3], "B", "card_default"),
    ])  # fmt: skip
    episodes = walk(pl.DataFrame(schema=LIVE), DAYS[:4], rows).to_dicts()
    assert [(e["customer_id"], e["entered_on"], e["last_identified"], e["left_on"],
             e["entry_rules"], e["last_rules"]) for e in episodes] == [
        ("A", DAYS[0], DAYS[2], DAYS[3], "inactive", "loan_overdue"),
        ("B", DAYS[1], DAYS[1], DAYS[2], "card_default", "card_default"),
        ("B", DAYS[3], DAYS[3], None, "card_default", "card_default"),
    ]  # fmt: skip


def _continued(rows: pl.DataFrame, days: list[date], cut: int) -> pl.DataFrame:
    """Walk up to the cut, then continue from the episodes live on the date before it —
    what the daily run does from its first changed date."""
    before = walk(pl.DataFrame(schema=LIVE), days[:cut], rows)
    live = before.filter(pl.col("left_on").is_null()).select(list(LIVE))
    closed = before.filter(pl.col("left_on").is_not_null())
    after = walk(live, days[cut:], rows)
    return pl.concat([closed, after]).sort("customer_id", "entered_on")


@settings(max_examples=examples(0.2))
@given(
    st.lists(
        st.tuples(st.sampled_from(DAYS), st.sampled_from(CUSTOMERS), st.sampled_from(RULES)),
        max_size=30,
    ),
    st.integers(0, len(DAYS)),
)
def test_a_walk_continued_from_any_date_equals_one_walk(
    cells: list[tuple[date, str, str]], cut: int
) -> None:
    rows = identified(list({(d, c): (d, c, r) for d, c, r in cells}.values()))
    whole = walk(pl.DataFrame(schema=LIVE), DAYS, rows)
    assert _continued(rows, DAYS, cut).to_dicts() == whole.to_dicts()
    # An episode is a run of consecutive dates identified: entered the first, left the
    # first date after the run.
    marks = {(r["as_of"], r["customer_id"]) for r in rows.to_dicts()}
    for e in whole.to_dicts():
        inside = [d for d in DAYS if e["entered_on"] <= d <= e["last_identified"]]
        assert all((d, e["customer_id"]) in marks for d in inside)
        if e["left_on"] is not None:
            assert (e["left_on"], e["customer_id"]) not in marks
            assert DAYS[DAYS.index(e["last_identified"]) + 1] == e["left_on"]


def test_exit_reasons_from_what_happened_between() -> None:
    last, left = date(2025, 3, 1), date(2025, 3, 2)
    closed = pl.DataFrame(
        [{"customer_id": c, "entered_on": date(2025, 1, 1), "last_identified": last,
          "left_on": left, "entry_rules": rules, "last_rules": rules}
         for c, rules in (("A", "closed_not_reapplied"), ("B", "transferred_out"),
                          ("C", "loan_overdue"), ("D", "inactive"), ("E", "inactive"),
                          ("F", "loan_overdue,inactive"), ("G", "card_default"))]
    )  # fmt: skip
    facts = pl.DataFrame(
        [("A", left, "application"), ("B", left, "opened"), ("C", left, "payment"),
         ("D", left, "explanation"), ("E", left, "payment"), ("F", last, "payment"),
         ("G", left, "explanation")],
        schema=FACTS, orient="row",
    )  # fmt: skip
    reasons = dict(exit_reasons(closed, facts).select("customer_id", "exit_reason").iter_rows())
    assert reasons == {"A": "reapplied", "B": "new_account", "C": "paid_up", "D": "explained",
                       "E": "resumed", "F": "lapsed", "G": "lapsed"}  # fmt: skip


def test_screening_on_the_first_stored_date_of_every_nth_month() -> None:
    stored = [date(2025, 1, 3), date(2025, 1, 1), date(2025, 2, 14), date(2025, 2, 15),
              date(2025, 4, 2), date(2025, 3, 31)]  # fmt: skip
    assert screening_dates(stored, 1) == [date(2025, 1, 1), date(2025, 2, 14), date(2025, 3, 31),
                                          date(2025, 4, 2)]  # fmt: skip
    # Every second month counted from year 0: January (month 24300) is even, March too.
    assert screening_dates(stored, 2) == [date(2025, 1, 1), date(2025, 3, 31)]


def test_screen_picks_reachable_level_3_customers() -> None:
    d = date(2025, 6, 30)
    rows = pl.DataFrame(
        [("A", 3, "light", 1, None, None), ("B", 3, "moderate", 0, date(2025, 1, 1), None),
         ("C", 3, "moderate", 0, date(2024, 12, 30), None), ("D", 2, "light", 1, None, None),
         ("E", 3, "severe", 1, None, None), ("F", 3, "light", 1, None, date(2025, 6, 1))],
        schema={"customer_id": pl.String, "grade": pl.Int32, "degree": pl.String,
                "open_accounts": pl.Int32, "contact_on": pl.Date, "malicious_on": pl.Date},
        orient="row",
    ).with_columns(pl.lit(d).alias("as_of"))  # fmt: skip
    picked = screen(rows, default_policy())
    assert picked.get_column("customer_id").to_list() == ["A", "B"]
    assert picked.get_column("screened_on").to_list() == [d, d]


def test_rules_text_in_contract_order() -> None:
    frame = identified([(DAYS[0], "A", "inactive")]).with_columns(pl.lit(True).alias(
        "loan_overdue"))  # fmt: skip
    assert frame.select(rules_text()).item() == "loan_overdue,inactive"
