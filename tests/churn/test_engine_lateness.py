"""Rules (a)/(b)'s counters from the engine's own pass (`engine.lateness`, what a daily run
hands churn) equal the counters churn computes on its own (`churn.rules.lateness`, itself
checked against the plain reference in test_identify_property.py): on every property-test
portfolio, with per-product thresholds, and with schedules that change inside the dates.
The hand-computed cases of test_rules.py run both ways too (`rules_on`)."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.churn.rules.identify import ChurnInputs, identify, lateness_wanted
from postloan.churn.rules.lateness import engine_keep
from postloan.engine.frames import Portfolio
from postloan.engine.lateness import LATENESS, LatenessWanted
from postloan.engine.schedule_versions import SCHEDULE_CHANGES, ScheduleVersions
from postloan.policy import Policy
from tests.churn.strategies import ChurnCase, churn_cases
from tests.conftest import examples
from tests.engine.test_schedule_versions import changes_of


def _products(c: ChurnCase) -> pl.DataFrame:
    return pl.DataFrame(
        {"account_id": list(c.products), "product": list(c.products.values())},
        schema={"account_id": pl.String, "product": pl.String},
    )


def engine_lateness(
    portfolio: Portfolio,
    events: pl.DataFrame,
    dates: list[date],
    policy: Policy,
    products: pl.DataFrame | None = None,
    changes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """What the run hands churn: the pass's lateness rows through churn's filter (customers
    with any `account_closed` event asked about, as the run's request does)."""
    closing = events.filter(pl.col("type") == "account_closed").get_column("customer_id").unique()
    wanted = lateness_wanted(policy, closing, products)
    request = LatenessWanted(wanted.lookback_months, engine_keep(wanted))
    changes = pl.DataFrame(schema=SCHEDULE_CHANGES) if changes is None else changes
    _, late = ScheduleVersions(portfolio, changes).status_and_lateness(dates, policy, request)
    return late


def _same(c: ChurnCase, changes: pl.DataFrame) -> None:
    policy = c.policy
    plain = ChurnInputs(c.case.portfolio, c.events, changes, _products(c))
    alone = identify(plain, list(c.dates), policy)
    late = engine_lateness(c.case.portfolio, c.events, list(c.dates), policy, _products(c), changes)
    fused = ChurnInputs(c.case.portfolio, c.events, changes, _products(c), late)
    assert identify(fused, list(c.dates), policy).equals(alone)


@settings(max_examples=examples(0.5))
@given(churn_cases())
def test_the_engine_pass_gives_the_same_identification(c: ChurnCase) -> None:
    _same(c, pl.DataFrame(schema=SCHEDULE_CHANGES))


@settings(max_examples=examples(0.2))
@given(st.data(), churn_cases())
def test_the_same_with_schedules_changing_inside_the_dates(
    data: st.DataObject, c: ChurnCase
) -> None:
    _same(c, data.draw(changes_of(c.case)))


def test_the_daily_run_asks_the_engine_pass_for_churn_counters() -> None:
    """The run hands churn the pass's counters (its step then skips computing them): the
    registered churn area is the one asking, with the policy's look-back, and its filter keeps
    a closing customer's open account and drops a quiet one."""
    import postloan.areas  # noqa: F401  (registers the built-in areas)
    from postloan.churn.queries import ChurnFrames
    from postloan.churn.rules.frames import EVENTS
    from postloan.policy import default_policy
    from postloan.runs.service import _lateness_request

    policy = default_policy()
    events = pl.DataFrame(
        [{"customer_id": "K1", "date": date(2026, 1, 5), "type": "account_closed", "amount": None}],
        schema=EVENTS,
    )
    products = pl.DataFrame(schema={"account_id": pl.String, "product": pl.String})
    frames = ChurnFrames(events, pl.DataFrame(), products)
    asker, wanted = _lateness_request({"churn": frames}, policy)
    assert asker == "churn" and wanted is not None
    assert wanted.lookback_months == policy.churn.cumulative_lookback_months
    rows = pl.DataFrame(
        {"account_id": ["A", "B", "C"], "customer_id": ["K1", "K2", "K2"],
         "account_type": ["loan", "loan", "card"], "as_of": [date(2026, 6, 30)] * 3,
         "consecutive_late": [0, 0, 0], "window_late": [0, 0, 9],
         "consecutive_not_paid_in_full": [None, None, 0], "open": [True, True, True]},
        schema=LATENESS,
    )  # fmt: skip
    assert wanted.keep(rows).get_column("account_id").to_list() == ["A", "C"]
