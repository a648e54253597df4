"""The early-warning back-test: a hand-built history with figures worked by hand, and random
histories against a plain reference implementation (loops over alerts and onsets, written
straight from the definitions in `risk.rules.backtest`)."""

from __future__ import annotations

import calendar
import itertools
import random
import statistics
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from postloan.risk.rules.backtest import ALERTS, DAILY, backtest

MONTH_ENDS = [date(2025, m, calendar.monthrange(2025, m)[1]) for m in range(1, 13)]
DPD = {  # worst DPD per month end
    "C1": [0, 10, 40, 70, 100, 130, 160, 190, 220, 250, 280, 310],  # onset May 31
    "C2": [0] * 12,
    "C3": [0] * 9 + [95, 125, 155],  # onset Oct 31
}
ALERT_ROWS = [
    ("s1", "C1", date(2025, 2, 28), "O1"),
    ("s1", "C2", date(2025, 3, 31), "O2"),
    ("s2", "C3", date(2025, 1, 31), "O1"),
    ("s2", "C1", date(2025, 5, 31), "O1"),
]


def _daily() -> pl.DataFrame:
    rows = [(c, d, v) for c, values in DPD.items() for d, v in zip(MONTH_ENDS, values, strict=True)]
    return pl.DataFrame(rows, schema=DAILY, orient="row")


def _by(results: pl.DataFrame, sid: str, h: int) -> dict[str, Any]:
    return results.filter(pl.col("signal_id") == sid, pl.col("horizon_months") == h).row(
        0, named=True
    )


def test_hand_computed_figures() -> None:
    alerts = pl.DataFrame(ALERT_ROWS, schema=ALERTS, orient="row")
    results, overlap = backtest(alerts, _daily(), ["s1", "s2"], [3, 6, 12], 90, officers=2)
    s1 = _by(results, "s1", 3)
    # Both s1 alerts judged (Feb 28 + 3 months = May 28 ≤ Dec 31); C1's onset (May 31) is after
    # May 28: not right within 3 months. Onsets observable for 3 months: May 31 (Feb 28 ≥ Jan 31)
    # and Oct 31; C1's caught by the Feb 28 alert, 92 days ahead.
    assert (s1["alerts"], s1["eligible"], s1["right"], s1["precision"]) == (2, 2, 0, 0.0)
    assert (s1["onsets"], s1["caught"], s1["recall"], s1["median_lead_days"]) == (2, 1, 0.5, 92)
    assert s1["alerts_per_officer_month"] == pytest.approx(2 / (2 * 12))
    s1_6 = _by(results, "s1", 6)
    # Within 6 months (until Aug 28) C1's onset is right; only Oct 31 is observable (May 31 − 6
    # months is before history) and s1 never alerted C3.
    assert (s1_6["right"], s1_6["precision"], s1_6["onsets"], s1_6["recall"]) == (1, 0.5, 1, 0.0)
    s1_12 = _by(results, "s1", 12)
    assert (s1_12["eligible"], s1_12["precision"], s1_12["onsets"], s1_12["recall"]) == (
        0, None, 0, None)  # fmt: skip
    s2 = _by(results, "s2", 3)
    # C1 was already bad on May 31: not judged; C3's Jan 31 alert is 9 months early.
    assert (s2["eligible"], s2["right"], s2["caught"], s2["recall"]) == (1, 0, 0, 0.0)
    assert overlap.rows() == [("s1", "s2", pytest.approx(1 / 3))]


# --- reference ------------------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def reference(
    alerts: list[tuple[str, str, date, str]], daily: dict[str, dict[date, int]],
    sids: list[str], horizons: list[int], bad: int, officers: int,
) -> list[dict[str, Any]]:  # fmt: skip
    every = sorted({d for per in daily.values() for d in per})
    first, last = every[0], every[-1]
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    onsets: list[tuple[str, date]] = []
    for customer, per in daily.items():
        days = sorted(per)
        for before, day in itertools.pairwise(days):
            if per[day] >= bad and per[before] < bad:
                onsets.append((customer, day))
    out = []
    for sid in sids:
        mine = [a for a in alerts if a[0] == sid]
        for h in horizons:
            eligible = right = 0
            for _, customer, on, _officer in mine:
                if daily.get(customer, {}).get(on, 0) >= bad or add_months(on, h) > last:
                    continue
                eligible += 1
                if any(c == customer and on < o <= add_months(on, h) for c, o in onsets):
                    right += 1
            observable = [(c, o) for c, o in onsets if add_months(o, -h) >= first]
            leads = []
            for c, o in observable:
                early = [on for _, cc, on, _ in mine if cc == c and add_months(o, -h) <= on < o]
                if early:
                    leads.append((o - min(early)).days)
            out.append({
                "signal_id": sid, "horizon_months": h, "alerts": len(mine),
                "eligible": eligible, "right": right,
                "precision": right / eligible if eligible else None,
                "onsets": len(observable), "caught": len(leads),
                "recall": len(leads) / len(observable) if observable else None,
                "median_lead_days": float(statistics.median(leads)) if leads else None,
                "alerts_per_officer_month": len(mine) / (max(officers, 1) * months),
            })  # fmt: skip
    return out


@pytest.mark.parametrize("seed", range(25))
def test_matches_the_reference_on_random_histories(seed: int) -> None:
    rng = random.Random(seed)
    start = date(2024, 1, 1) + timedelta(days=rng.randrange(60))
    every = sorted(
        {start + timedelta(days=rng.randrange(500)) for _ in range(rng.randrange(3, 25))}
    )
    customers = [f"C{i}" for i in range(rng.randrange(1, 12))]
    daily: dict[str, dict[date, int]] = {}
    for c in customers:
        dpd, per = 0, {}
        for d in every:
            dpd = max(0, dpd + rng.choice([-40, 0, 0, 15, 30, 60]))
            per[d] = dpd
        daily[c] = per
    drawn = [(rng.choice(["a", "b", "c"]), rng.choice(customers), rng.choice(every),
              rng.choice(["O1", "O2", "O3"])) for _ in range(rng.randrange(0, 30))]  # fmt: skip
    alerts = sorted(set(drawn))
    # One alert per (signal, customer, date), as task openings are.
    alerts = list({(s, c, d): (s, c, d, o) for s, c, d, o in alerts}.values())
    daily_frame = pl.DataFrame([(c, d, v) for c, per in daily.items() for d, v in per.items()],
                               schema=DAILY, orient="row")  # fmt: skip
    alert_frame = pl.DataFrame(alerts, schema=ALERTS, orient="row")
    got, _ = backtest(alert_frame, daily_frame, ["a", "b", "c"], [1, 3, 6], 90, officers=3)
    want = reference(alerts, daily, ["a", "b", "c"], [1, 3, 6], 90, 3)
    assert _close(got.to_dicts(), want)


def _close(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value), (key, g, w)
            else:
                assert g[key] == value, (key, g, w)
    return True
