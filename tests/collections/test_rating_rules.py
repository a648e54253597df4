"""The re-rating rules (OD-7) without a database: step thresholds, the weighted score rounded
half up, grades at their boundaries, which cases are open on a day, change detection, bureau
scores read from event details and the asset-transfer alerts — hand-computed with the default
policy's tables (dpd 1→10, 31→40; amount 1,000→20; bureau <550→100, 750+→10; missing→50;
weights 40/25/15/20; grades A 0, B 20, C 40, D 60, E 80)."""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.collections.rules.rating import (
    EPISODES,
    FACTOR_INPUTS,
    Transfer,
    bureau_scores,
    changed_ratings,
    open_on,
    rate,
    step_points,
    transfer_alerts,
    with_fresh,
)
from postloan.policy import default_policy

RATING = default_policy().rating
D = date(2024, 6, 30)


def _inputs(*rows: tuple[int, int, int | None, int | None, int | None]) -> pl.DataFrame:
    """(max_dpd, overdue minor units, income_drop_pct, days_since_payment, bureau_score)."""
    return pl.DataFrame(
        [(f"c{k}", D, *r) for k, r in enumerate(rows)], schema=FACTOR_INPUTS, orient="row"
    )


def test_step_points_take_the_highest_step_reached() -> None:
    got = step_points(pl.Series([0, 1, 30, 31, 60, 61, 181, None]), RATING.dpd_points)
    assert got.to_list() == [0, 10, 10, 40, 40, 70, 100, 100]  # null: the last step
    assert step_points(pl.Series([None, 549, 550]), RATING.bureau_score_points, 50).to_list() == [
        50, 100, 70
    ]  # fmt: skip


def test_score_and_grade_at_the_dpd_threshold() -> None:
    # 30 DPD: 10×40 + 20×25 (1,000 yuan) + 100×15 (never paid) + 50×20 (no score) = 3,400 → 34 B
    # 31 DPD: 40×40 + ... = 4,600 → 46 C
    rated = rate(_inputs((30, 100_000, None, None, None), (31, 100_000, None, None, None)), RATING)
    assert rated.select("score", "grade").rows() == [(34, "B"), (46, "C")]
    assert rated.select("dpd_points", "amount_points", "capacity_points", "credit_points").rows(
    )[1] == (40, 20, 100, 50)  # fmt: skip


def test_capacity_is_the_larger_of_income_drop_and_days_unpaid() -> None:
    rated = rate(_inputs((1, 0, 50, 31, 800), (1, 0, 10, 61, 800)), RATING)
    assert rated["capacity_points"].to_list() == [100, 60]


def test_score_rounds_half_up() -> None:
    equal = RATING.model_copy(update={"weights": {"dpd": 1, "amount": 1, "capacity": 1,
                                                  "credit": 1}})  # fmt: skip
    # 10 + 20 + 0 + 100 = 130 over 4 = 32.5 → 33; 10 + 0 + 0 + 100 = 110 / 4 = 27.5 → 28
    rated = rate(_inputs((1, 100_000, 0, 0, 100), (1, 0, 0, 0, 100)), equal)
    assert rated["score"].to_list() == [33, 28]


def test_grades_start_at_their_lowest_score() -> None:
    only_dpd = RATING.model_copy(update={"weights": {"dpd": 1, "amount": 0, "capacity": 0,
                                                     "credit": 0}})  # fmt: skip
    rated = rate(_inputs((0, 0, 0, 0, 0), (1, 0, 0, 0, 0), (31, 0, 0, 0, 0), (61, 0, 0, 0, 0),
                         (91, 0, 0, 0, 0)), only_dpd)  # fmt: skip
    assert rated.select("score", "grade").rows() == [
        (0, "A"), (10, "A"), (40, "C"), (70, "D"), (90, "E")
    ]  # fmt: skip


def test_open_on_a_day_excludes_the_closing_day() -> None:
    episodes = pl.DataFrame(
        [("a", date(2024, 6, 1), None), ("b", date(2024, 6, 1), D), ("c", date(2024, 7, 1), None),
         ("d", date(2024, 6, 1), date(2024, 7, 1))],
        schema=EPISODES, orient="row",
    )  # fmt: skip
    assert open_on(episodes, D)["customer_id"].to_list() == ["a", "d"]


RATINGS = {"customer_id": pl.String, "case_opened_on": pl.Date, "score": pl.Int64,
           "grade": pl.String}  # fmt: skip


def test_only_changed_or_first_ratings_are_stored() -> None:
    last = pl.DataFrame([("a", D, 40, "C"), ("b", D, 40, "C")], schema=RATINGS, orient="row")
    rated = pl.DataFrame(
        [("a", D, 40, "C"), ("b", D, 41, "C"), ("c", D, 10, "A"), ("a", date(2024, 1, 1), 40, "C")],
        schema=RATINGS, orient="row",
    )  # fmt: skip
    fresh = changed_ratings(rated, last)
    assert fresh.select("customer_id", "case_opened_on").rows() == [
        ("b", D), ("c", D), ("a", date(2024, 1, 1))  # a new episode is a new case
    ]  # fmt: skip
    latest = with_fresh(last, fresh)
    assert sorted(latest.rows()) == sorted(
        [("a", D, 40, "C"), ("b", D, 41, "C"), ("c", D, 10, "A"),
         ("a", date(2024, 1, 1), 40, "C")]
    )  # fmt: skip


def test_bureau_scores_come_from_the_detail() -> None:
    events = pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "date": [D, D, D],
         "detail": ["score=612", "score = 700; source X", "no score"]},
    )  # fmt: skip
    assert bureau_scores(events).select("customer_id", "score").rows() == [("a", 612), ("b", 700)]


def test_asset_transfer_alerts_once_within_the_lookback() -> None:
    lookback = RATING.asset_transfer_lookback_days
    edge = date.fromordinal(D.toordinal() - lookback)
    transfers = [
        Transfer("e1", "a", edge, 1_234_56, "sold flat"),  # on the lookback's first day
        Transfer("e2", "a", date.fromordinal(edge.toordinal() - 1), None, None),  # too old
        Transfer("e3", "b", D, None, None),  # b not in collections
        Transfer("e4", "a", date(2024, 7, 1), None, None),  # after the day
        Transfer("e5", "a", D, None, None),  # already alerted
    ]
    rows = transfer_alerts(transfers, D, {"a"}, {"e5"}, lookback)
    assert rows == [
        {"kind": "asset_transfer", "customer_id": "a", "event_id": "e1", "event_date": edge,
         "raised_on": D, "detail": "sold flat amount 1234.56"}
    ]  # fmt: skip
    doubled = transfer_alerts([transfers[0], transfers[0]], D, {"a"}, set(), lookback)
    assert len(doubled) == 1
    assert transfer_alerts([transfers[2]], D, {"b"}, set(), lookback)[0]["detail"] == (
        "asset transfer"
    )
