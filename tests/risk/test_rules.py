"""Risk's pure rules without a database: the score's step tables and weights, each signal
computation on both sides of its threshold, task openings and the watch list's episodes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from postloan.policy import PolicyError, default_policy
from postloan.policy.risk import Signal
from postloan.risk.rules.score import SCORE_INPUTS, score
from postloan.risk.rules.signals import DAILY, DATED, HITS, signal_hits
from postloan.risk.rules.watch import openings, watch_episodes

POLICY = default_policy()
CFG = POLICY.risk.score
D = date(2026, 6, 30)


def _inputs(**overrides: Any) -> dict[str, Any]:
    row = {"as_of": D, "customer_id": "C1", "worst_dpd": 0, "times_late": 0,
           "overdue_amount": 0, "monthly_income": 1_000_000, "total_assets": 10_000_000,
           "total_liabilities": 0, "industry": "制造业", "income_reported": None,
           "income_reported_on": None, "churn_grade": None}  # fmt: skip
    return {**row, **overrides}


def _score(**overrides: Any) -> dict[str, Any]:
    return score(pl.DataFrame([_inputs(**overrides)], schema=SCORE_INPUTS), CFG).row(0, named=True)


def test_a_clean_customer_scores_zero() -> None:
    row = _score()
    assert (row["score"], row["grade"]) == (0, "A")
    assert [row[f"{p}_points"] for p in ("credit", "capacity", "industry", "churn")] == [0] * 4


@pytest.mark.parametrize(("dpd", "points"), [(0, 0), (1, 25), (30, 25), (31, 55), (60, 55),
                                             (61, 80), (90, 80), (91, 100)])  # fmt: skip
def test_worst_dpd_steps_both_sides(dpd: int, points: int) -> None:
    assert _score(worst_dpd=dpd)["credit_points"] == points


def test_credit_is_the_larger_of_dpd_and_times_late() -> None:
    assert _score(worst_dpd=1, times_late=2)["credit_points"] == 25  # 25 vs 20
    assert _score(worst_dpd=1, times_late=3)["credit_points"] == 60  # 25 vs 60


@pytest.mark.parametrize(("liabilities", "assets", "ratio", "points"), [
    (3_400_000, 10_000_000, 34, 0), (3_500_000, 10_000_000, 35, 30),
    (6_999_999, 10_000_000, 69, 30), (7_000_000, 10_000_000, 70, 70),
    (10_000_000, 10_000_000, 100, 100), (1, 0, 1000, 100), (None, 5, None, 0),
])  # fmt: skip
def test_debt_ratio(liabilities: int | None, assets: int, ratio: int | None, points: int) -> None:
    row = _score(total_liabilities=liabilities, total_assets=assets)
    assert (row["debt_ratio"], row["capacity_points"]) == (ratio, points)


def test_income_drop_counts_only_inside_the_lookback() -> None:
    # 1,000,000 on file, 690,000 reported: a 31 % drop → 60 points (30 % step).
    inside = D - timedelta(days=CFG.income_lookback_days - 1)
    outside = D - timedelta(days=CFG.income_lookback_days)
    assert _score(income_reported=690_000, income_reported_on=inside)["capacity_points"] == 60
    assert _score(income_reported=690_000, income_reported_on=outside)["capacity_points"] == 0
    assert _score(income_reported=910_000, income_reported_on=inside)["capacity_points"] == 0  # 9 %
    assert _score(income_reported=900_000, income_reported_on=inside)["capacity_points"] == 30


def test_weighted_score_by_hand() -> None:
    # credit 55 (M2), capacity 70 (ratio 70 %), industry 100 (listed), churn 60 (grade 2):
    # (55·45 + 70·30 + 100·10 + 60·15) / 100 = (2475 + 2100 + 1000 + 900) / 100 = 64.75 → 65.
    row = _score(worst_dpd=40, total_liabilities=7_000_000, industry="房地产业", churn_grade=2)
    assert [row[f"{p}_points"] for p in ("credit", "capacity", "industry", "churn")] == [
        55, 70, 100, 60]  # fmt: skip
    assert (row["score"], row["grade"]) == (65, "D")


def test_score_rounds_half_up() -> None:
    # credit 25 only: 25·45/100 = 11.25 → 11; times late 1 → 20·45/100 = 9.0; and 0.5 cases:
    # churn grade 3 (30 points) · 15 / 100 = 4.5 → 5.
    assert _score(worst_dpd=1)["score"] == 11
    assert _score(churn_grade=3)["score"] == 5


# --- signals ----------------------------------------------------------------------------------
def _signal(sid: str) -> Signal:
    return next(s for s in POLICY.risk.signals if s.id == sid)


def _daily(rows: list[dict[str, Any]]) -> pl.DataFrame:
    base = {"customer_id": "C1", "score": 0, "worst_dpd": 0, "overdue_amount": 0,
            "outstanding": 0, "income_drop_pct": 0, "income_reported_on": None,
            "industry_listed": False}  # fmt: skip
    return pl.DataFrame([{**base, **r} for r in rows], schema=DAILY)


def _hits(daily: pl.DataFrame, sid: str, dated: pl.DataFrame | None = None) -> list[Any]:
    found = signal_hits(daily, dated if dated is not None else pl.DataFrame(schema=DATED),
                        [_signal(sid)], [D])  # fmt: skip
    return found.select("customer_id", "value").rows()


@pytest.mark.parametrize(("dpd", "hit"), [(4, False), (5, True), (30, True), (31, False)])
def test_early_arrears_5_to_30(dpd: int, hit: bool) -> None:
    assert bool(_hits(_daily([{"as_of": D, "worst_dpd": dpd}]), "early_arrears")) is hit


@pytest.mark.parametrize(("before", "now", "hit"), [
    (100, 119, False), (100, 120, True), (0, 500, False), (100, 0, False),
])  # fmt: skip
def test_payment_ratio_falling(before: int, now: int, hit: bool) -> None:
    daily = _daily([{"as_of": D - timedelta(days=30), "overdue_amount": before},
                    {"as_of": D, "overdue_amount": now}])  # fmt: skip
    assert bool(_hits(daily, "payment_ratio_falling")) is hit


def test_rising_liabilities_against_a_plain_recomputation() -> None:
    """负债上升: on D, each customer's total outstanding against the latest stored date on or
    before D − window (if no older than D − 2 × window), from a balance > 0, up by ≥ threshold
    percent — checked on random histories against a plain loop."""
    import random

    signal = _signal("rising_liabilities")
    assert signal.computation == "balance_growth" and signal.window_days is not None
    w, threshold = signal.window_days, signal.threshold
    rng = random.Random(5)
    for _ in range(30):
        rows = []
        for c in range(12):
            days = sorted(rng.sample(range(1, 3 * w), rng.randint(0, 6)))
            for back in [0, *days]:
                balance = rng.choice([None, 0, rng.randint(1, 2_000_000)])
                rows.append({"customer_id": f"C{c}", "as_of": D - timedelta(days=back),
                             "outstanding": balance})  # fmt: skip
        daily = _daily(rows)
        expected = []
        for c in range(12):
            mine = {r["as_of"]: r["outstanding"] for r in rows if r["customer_id"] == f"C{c}"}
            now = mine.get(D)
            earlier = [d for d in mine if d <= D - timedelta(days=w)]
            if now is None or not earlier:
                continue
            then = max(earlier)
            before = mine[then]
            if then < D - timedelta(days=2 * w) or before is None or before <= 0:
                continue
            if now * 100 >= before * (100 + threshold):
                expected.append((f"C{c}", (now - before) * 100 // before))
        assert sorted(_hits(daily, "rising_liabilities")) == sorted(expected)


@pytest.mark.parametrize(("before", "now", "hit"), [
    (1000, 1249, False), (1000, 1250, True), (0, 5000, False), (1000, 999, False),
])  # fmt: skip
def test_rising_liabilities_threshold_both_sides(before: int, now: int, hit: bool) -> None:
    daily = _daily([{"as_of": D - timedelta(days=60), "outstanding": before},
                    {"as_of": D, "outstanding": now}])  # fmt: skip
    assert bool(_hits(daily, "rising_liabilities")) is hit


def test_window_comparisons_need_a_recent_enough_earlier_date() -> None:
    # Within the window (29 days back) there is nothing to compare with; 61 days back is too old.
    for days in (29, 61):
        daily = _daily([{"as_of": D - timedelta(days=days), "score": 0},
                        {"as_of": D, "score": 50}])  # fmt: skip
        assert _hits(daily, "score_drop") == [], days
    daily = _daily([{"as_of": D - timedelta(days=60), "score": 0}, {"as_of": D, "score": 50}])
    assert _hits(daily, "score_drop") == [("C1", 50)]


@pytest.mark.parametrize(("rise", "hit"), [(14, False), (15, True)])
def test_score_drop(rise: int, hit: bool) -> None:
    daily = _daily([{"as_of": D - timedelta(days=31), "score": 20},
                    {"as_of": D, "score": 20 + rise}])  # fmt: skip
    assert bool(_hits(daily, "score_drop")) is hit


@pytest.mark.parametrize(("drop", "age", "hit"), [(29, 0, False), (30, 0, True),
                                                  (30, 89, True), (30, 90, False)])  # fmt: skip
def test_income_drop(drop: int, age: int, hit: bool) -> None:
    daily = _daily([{"as_of": D, "income_drop_pct": drop,
                     "income_reported_on": D - timedelta(days=age)}])  # fmt: skip
    assert bool(_hits(daily, "income_drop")) is hit


def test_industry_listed() -> None:
    assert _hits(_daily([{"as_of": D, "industry_listed": True}]), "industry_listed") == [("C1", 1)]
    assert _hits(_daily([{"as_of": D}]), "industry_listed") == []


def _dated(*rows: tuple[int, str]) -> pl.DataFrame:
    return pl.DataFrame([("C1", D - timedelta(days=ago), kind) for ago, kind in rows],
                        schema=DATED, orient="row")  # fmt: skip


@pytest.mark.parametrize(("sid", "kind", "needed"), [
    ("lawsuit", "lawsuit", 1), ("asset_transfer", "asset_transfer", 1),
    ("complaints", "complaint", 2), ("broken_promises", "promise_broken", 2),
])  # fmt: skip
def test_counted_signals_both_sides(sid: str, kind: str, needed: int) -> None:
    lookback = _signal(sid).lookback_days
    assert lookback is not None
    daily = _daily([{"as_of": D}])
    short = _dated(*[(0, kind)] * (needed - 1), (lookback, kind))  # the last is just outside
    assert _hits(daily, sid, short) == []
    enough = _dated(*[(0, kind)] * (needed - 1), (lookback - 1, kind))
    assert _hits(daily, sid, enough) == [("C1", needed)]
    later = _dated(*[(-1, kind)] * needed)  # dated after D: not yet known on D
    assert _hits(daily, sid, later) == []


def test_only_scored_customers_hit() -> None:
    dated = pl.DataFrame([("C2", D, "lawsuit")], schema=DATED, orient="row")
    assert _hits(_daily([{"as_of": D}]), "lawsuit", dated) == []


def test_a_signal_without_its_parameters_is_refused() -> None:
    raw = POLICY.model_dump(mode="json")
    raw["risk"]["signals"][2].pop("window_days")  # score_drop
    with pytest.raises((PolicyError, ValueError), match="window_days"):
        type(POLICY).model_validate(raw)


# --- tasks and the watch list -----------------------------------------------------------------
DATES = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
         date(2026, 6, 30)]  # fmt: skip


def _hit_frame(rows: list[tuple[date, str, str]]) -> pl.DataFrame:
    return pl.DataFrame([(d, c, s, 1) for d, c, s in rows], schema=HITS, orient="row")


def test_a_task_opens_where_a_run_of_hits_starts() -> None:
    hits = _hit_frame([(DATES[0], "C1", "lawsuit"), (DATES[1], "C1", "lawsuit"),
                       (DATES[3], "C1", "lawsuit"), (DATES[1], "C2", "complaints")])  # fmt: skip
    assert openings(hits, DATES).rows() == [
        ("C1", "lawsuit", DATES[0]),
        ("C2", "complaints", DATES[1]),
        ("C1", "lawsuit", DATES[3]),
    ]


def test_watch_episodes_enter_and_exit_by_the_clean_period() -> None:
    # early_arrears: exit after 60 clean days. Hit on Jan 31 → covered until Apr 1 (exclusive):
    # on the list Jan 31, Feb 28, Mar 31; off on Apr 30 ("clean"). Hit again Jun 30: a new
    # episode, still open. industry_listed is not a watch signal: no episode for C2.
    hits = _hit_frame([(DATES[0], "C1", "early_arrears"), (DATES[4], "C1", "early_arrears"),
                       (DATES[0], "C2", "industry_listed")])  # fmt: skip
    assert watch_episodes(hits, POLICY.risk.signals, DATES).rows() == [
        ("C1", DATES[0], DATES[3], "early_arrears", "clean"),
        ("C1", DATES[4], None, "early_arrears", None),
    ]
    # A hit on Mar 31 extends the cover to May 30: still on Apr 30, off Jun 30 — one episode.
    more = pl.concat([hits, _hit_frame([(DATES[2], "C1", "early_arrears")])])
    assert watch_episodes(more, POLICY.risk.signals, [*DATES[:4], date(2026, 6, 1)]).rows() == [
        ("C1", DATES[0], date(2026, 6, 1), "early_arrears", "clean"),
    ]


def test_a_longer_exit_period_keeps_the_customer_on() -> None:
    # lawsuit: 180 days → Jan 31 + 180 = Jul 30: still on the list on Jun 30.
    hits = _hit_frame([(DATES[0], "C1", "lawsuit"), (DATES[0], "C1", "early_arrears")])
    assert watch_episodes(hits, POLICY.risk.signals, DATES).rows() == [
        ("C1", DATES[0], None, "early_arrears,lawsuit", None)
    ]


def test_every_default_signal_has_its_text_and_response_in_both_languages() -> None:
    from postloan.risk.messages import MESSAGES, response_text

    for s in POLICY.risk.signals:
        for lang in ("zh-CN", "en"):
            for key in ("risk.signal", "risk.signal_about", "risk.response"):
                assert MESSAGES[lang].get(f"{key}.{s.id}"), (lang, key, s.id)
        # the default policy's response is its English message, translated for zh-CN
        assert response_text("en", s.id, s.response) == s.response
        zh = response_text("zh-CN", s.id, s.response)
        assert zh == MESSAGES["zh-CN"][f"risk.response.{s.id}"] != s.response
        # a lender's own wording is shown as written
        assert response_text("zh-CN", s.id, "ring the branch") == "ring the branch"
