"""The what-if (LY-4): candidate cut-offs replayed on the stored history. The policy in force
replayed gives back exactly the stored tiers (the replay is the step's rule on the stored
figures); a candidate's tiers equal a plain per-customer recomputation (matrix, floors,
hysteresis by hand); and nothing stored changes — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import true

from postloan.policy import Policy, default_policy, policy_from_dict
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.tiering import report
from postloan.tiering.read import figures_between
from postloan.tiering.tables import tier_assignments
from tests.tiering.conftest import AS_OF, DATES, filled, table_rows
from tests.tiering.reference import TIERS, hold_sequence

POLICY = default_policy()
CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")


def candidate() -> Policy:
    data = POLICY.model_dump(mode="json")
    t = data["tiering"]
    t["credit"]["poor_min_dpd"] = 1  # any arrears is poor credit …
    t["capacity"]["strong_max_dsr_percent"] = 10  # … strong capacity is rarer …
    t["matrix"]["good"]["average"] = "premium"  # … but good + average is premium
    t["upgrade_after_dates"] = 2
    return policy_from_dict(data, "test")


def plain_tier(f: dict[str, Any], policy: Policy) -> str:
    """One customer's qualified tier from its stored figures, by hand (docs/tiering.md)."""
    t = policy.tiering
    c, k = t.credit, t.capacity
    if f["max_dpd"] >= c.poor_min_dpd or f["times_late"] >= c.poor_min_times_late:
        credit = "poor"
    elif f["max_dpd"] == 0 and f["times_late"] <= c.good_max_times_late:
        credit = "good"
    else:
        credit = "average"
    income, debts = f["monthly_income"], f["total_liabilities"] or 0
    if income is None or income <= 0:
        capacity = k.when_income_unknown
    elif (f["instalments"] * 100 > k.weak_min_dsr_percent * income
          or debts * 100 > k.weak_min_dti_percent * 12 * income):  # fmt: skip
        capacity = "weak"
    elif (f["instalments"] * 100 <= k.strong_max_dsr_percent * income
          and debts * 100 <= k.strong_max_dti_percent * 12 * income):  # fmt: skip
        capacity = "strong"
    else:
        capacity = "average"
    tier = getattr(getattr(t.matrix, credit), capacity)
    floor = {"normal": "premium", "special_mention": t.floors.special_mention}.get(
        f["worst_class"], "high")  # fmt: skip
    if f["open_case"]:
        floor = "high"
    return TIERS[max(TIERS.index(tier), TIERS.index(floor))]


def test_replays_against_the_store(make_store: Any, backend: str, tier_files: Path) -> None:
    url = filled(make_store, backend, tier_files)
    run_dates(url, DATES, POLICY)
    before = table_rows(url, tier_assignments)
    engine = engine_for(url)
    with engine.connect() as conn:
        same = report.what_if(conn, DATES[0], AS_OF, true(), POLICY)
        other = report.what_if(conn, DATES[0], AS_OF, true(), candidate())
        figures = figures_between(conn, DATES[0], AS_OF, true())
    engine.dispose()
    # the policy in force replayed: the stored tiers, date by date, and the same review
    assert [m["moved"] for m in same["moved"]] == [0] * len(DATES)
    assert same["current"] == same["candidate"]
    cells = {(c["stored"], c["candidate"]): c["customers"] for c in same["transitions"]}
    assert all(n == 0 for (a, b), n in cells.items() if a != b)
    # the candidate against the plain recomputation: qualified by hand, hysteresis by hand
    policy = candidate()
    rows = figures.sort("as_of").to_dicts()
    days = sorted({r["as_of"] for r in rows})
    qualified: dict[str, list[str | None]] = {}
    stored: dict[tuple[Any, str], str] = {}
    for r in rows:
        seq = qualified.setdefault(r["customer_id"], [None] * len(days))
        seq[days.index(r["as_of"])] = plain_tier(r, policy)
        stored[(r["as_of"], r["customer_id"])] = r["tier"]
    held = {c: hold_sequence(seq, policy.tiering.upgrade_after_dates)
            for c, seq in qualified.items()}  # fmt: skip
    wanted_moved = [sum(1 for c, seq in held.items() if seq[i] is not None
                        and seq[i] != stored[(day, c)]) for i, day in enumerate(days)]  # fmt: skip
    assert [m["moved"] for m in other["moved"]] == wanted_moved
    assert sum(wanted_moved) > 0  # the candidate does move customers
    last = {c: seq[-1] for c, seq in held.items() if seq[-1] is not None}
    cells = {(c["stored"], c["candidate"]): c["customers"] for c in other["transitions"]}
    for (a, b), n in cells.items():
        if a != "none" and b != "none":
            assert n == sum(1 for c, t in last.items() if stored[(AS_OF, c)] == a and t == b)
    # the candidate's review counts its own tiers
    counts = {(r["month"], r["tier"]): r["customers"] for r in other["candidate"]}
    june = {t: sum(1 for v in last.values() if v == t) for t in TIERS}
    assert {t: counts.get(("2026-06", t), 0) for t in TIERS} == june
    # read only
    assert table_rows(url, tier_assignments) == before
