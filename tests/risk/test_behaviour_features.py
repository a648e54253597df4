"""The behaviour scorecard's feature frame and target against a plain per-customer reference
(loops over dates, written from the definitions in `risk.rules.behaviour`'s docstring) on a
hand-built history: customers with gaps, cards, payments, bureau and income events."""

from __future__ import annotations

import calendar
import random
from datetime import date

import polars as pl
import pytest

from postloan.risk.rules import behaviour as b


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _m(day: date) -> int:
    return day.year * 12 + day.month - 1


ENDS = [_month_end(2024 + (m - 1) // 12, (m - 1) % 12 + 1) for m in range(1, 25)]
CUSTOMERS = ["A", "B", "C", "D", "E"]


def _world(seed: int) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    rnd = random.Random(seed)
    status, paid, statements, bureau, income = [], [], [], [], []
    opened = {c: date(2023, rnd.randint(1, 12), rnd.randint(1, 28)) for c in CUSTOMERS}
    for c in CUSTOMERS:
        dpd = 0
        for day in ENDS:
            if rnd.random() < 0.1:  # no status that month (e.g. between two loans)
                continue
            dpd = rnd.choice([0, 0, 0, dpd + 30, max(dpd - 30, 0), 95 if rnd.random() < 0.1 else 0])
            status.append((day, c, dpd, dpd * 100 + rnd.randint(0, 50)))
            if rnd.random() < 0.8:
                paid.append((c, _m(day), rnd.randint(0, 5000)))
        if c in ("A", "C"):
            for day in ENDS:
                stmt = date(day.year, day.month, 5)
                bal = rnd.randint(0, 9000)
                statements.append(
                    (
                        c,
                        f"{c}-card",
                        stmt,
                        date(day.year, day.month, 25),
                        bal,
                        bal // 10,
                        10000,
                        rnd.choice([0, bal // 10, bal // 5, bal]),
                    )
                )
        for _ in range(rnd.randint(0, 3)):
            bureau.append(
                (c, date(2024, rnd.randint(1, 12), rnd.randint(1, 28)), rnd.randint(400, 900))
            )
            income.append(
                (c, date(2025, rnd.randint(1, 12), rnd.randint(1, 28)), rnd.randint(1000, 20000))
            )
    file = [(c, rnd.choice([None, 8000, 12000]), rnd.choice([None, 700])) for c in CUSTOMERS]
    return {
        "status": status,
        "paid": paid,
        "opened": list(opened.items()),
        "statements": statements,
        "bureau": bureau,
        "income": income,
        "file": file,
    }


def _frames(w: dict[str, list[tuple]]) -> dict[str, pl.DataFrame]:  # type: ignore[type-arg]
    schemas = {"status": b.STATUS, "paid": b.PAID, "opened": b.OPENED,
               "statements": b.STATEMENTS, "bureau": b.READINGS, "income": b.READINGS,
               "file": b.FILE}  # fmt: skip
    return {k: pl.DataFrame(w[k], schema=schemas[k], orient="row") for k in schemas}


def _reference(w: dict[str, list[tuple]], t: date, c: str) -> dict[str, object]:  # type: ignore[type-arg]
    snaps = {_m(d): (dpd, od) for d, cc, dpd, od in w["status"] if cc == c and d <= t}
    out: dict[str, object] = {}
    for n in b.WINDOWS:
        inside = [snaps[m] for m in snaps if _m(t) - m < n]
        out[f"worst_dpd_{n}m"] = max((s[0] for s in inside), default=None)
        out[f"times_late_{n}m"] = sum(1 for s in inside if s[0] > 0) if inside else None
    paid = sum(a for cc, m, a in w["paid"] if cc == c and _m(t) - 6 < m <= _m(t))
    now = snaps.get(_m(t), (0, 0))[1]
    before = snaps.get(_m(t) - 6, (0, 0))[1]
    due = paid + max(now - before, 0)
    out["payment_ratio_6m"] = None if due == 0 else min(paid / due, 1.0)
    start = dict(w["opened"])[c]
    out["months_on_book"] = _m(t) - _m(start) - (1 if t.day < start.day else 0)
    cards = [s for s in w["statements"] if s[0] == c and s[2] <= t]
    if cards:
        latest = max(cards, key=lambda s: s[2])
        out["card_utilisation_pct"] = latest[4] * 100 // latest[6]
        out["min_only_payments_6m"] = sum(
            1 for s in cards
            if _m(t) - 6 < _m(s[2]) and s[3] <= t and s[5] > 0 and s[5] <= s[7] < s[4]
        )  # fmt: skip
    else:
        out["card_utilisation_pct"] = out["min_only_payments_6m"] = None
    file = {r[0]: r for r in w["file"]}[c]
    for kind, name in (("bureau", "bureau_score_change"), ("income", "income_change_pct")):
        seen = sorted((d, v) for cc, d, v in w[kind] if cc == c and d <= t)
        year_ago = date(
            t.year - 1, t.month, min(t.day, calendar.monthrange(t.year - 1, t.month)[1])
        )
        if not seen or seen[-1][0] <= year_ago:
            out[name] = None
        elif kind == "bureau":
            prior = seen[-2][1] if len(seen) > 1 else file[2]
            out[name] = None if prior is None else seen[-1][1] - prior
        else:
            out[name] = None if not file[1] else seen[-1][1] * 100 // file[1] - 100
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_feature_frame_equals_a_per_customer_reference(seed: int) -> None:
    w = _world(seed)
    f = _frames(w)
    obs = f["status"].select("as_of", "customer_id")
    got = b.features(obs, f["status"], f["paid"], f["opened"], f["statements"], f["bureau"],
                     f["income"], f["file"])  # fmt: skip
    assert got.height == obs.height
    for r in got.iter_rows(named=True):
        want = _reference(w, r["as_of"], r["customer_id"])
        for name in b.FEATURES:
            if isinstance(want[name], float):
                assert r[name] == pytest.approx(want[name]), (r["as_of"], r["customer_id"], name)
            else:
                assert r[name] == want[name], (r["as_of"], r["customer_id"], name)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_target_equals_a_per_customer_reference(seed: int) -> None:
    w = _world(seed)
    f = _frames(w)
    obs = f["status"].select("as_of", "customer_id")
    got = {(r[0], r[1]): r[2] for r in b.targets(obs, f["status"], 90, 6).iter_rows()}
    last = max(d for d, *_ in w["status"])
    want = {}
    for d, c, dpd, _od in w["status"]:
        if dpd >= 90 or _m(d) + 6 > _m(last):
            continue
        after = [x for dd, cc, x, _ in w["status"] if cc == c and _m(d) < _m(dd) <= _m(d) + 6]
        want[(d, c)] = int(max(after, default=0) >= 90)
    assert got == want
    assert 0 < sum(want.values()) < len(want)  # both outcomes occur


def test_snapshots_and_the_out_of_time_split() -> None:
    stored = [date(2025, 1, 15), date(2025, 1, 31), date(2025, 2, 10), date(2025, 3, 31)]
    assert b.snapshot_dates(stored) == [date(2025, 1, 31), date(2025, 2, 10), date(2025, 3, 31)]
    frame = pl.DataFrame({"as_of": ENDS[:6]})
    assert b.out_of_time(frame, 2).to_list() == [False] * 4 + [True] * 2


@pytest.mark.parametrize("seed", [1, 2])
def test_the_churn_target_equals_a_per_customer_reference(seed: int) -> None:
    rnd = random.Random(seed)
    w = _world(seed)
    f = _frames(w)
    obs = f["status"].select("as_of", "customer_id")
    marked = [(d, c) for d, c, *_ in w["status"] if rnd.random() < 0.2]
    identified = pl.DataFrame(marked, schema={"as_of": pl.Date, "customer_id": pl.String},
                              orient="row")  # fmt: skip
    last = max(d for d, *_ in w["status"])
    got = {(r[0], r[1]): r[2] for r in b.churn_targets(obs, identified, last, 3).iter_rows()}
    want = {}
    for d, c, *_ in w["status"]:
        if (d, c) in marked or _m(d) + 3 > _m(last):
            continue
        want[(d, c)] = int(any(cc == c and _m(d) < _m(dd) <= _m(d) + 3 for dd, cc in marked))
    assert got == want
    assert 0 < sum(want.values()) < len(want)
