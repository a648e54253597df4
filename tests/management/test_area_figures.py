"""The pack's figures from other areas (churn rates by rule, complaints and satisfaction,
collections KPIs — `Area.kpi_figures` through the registry) and its team and collector
breakdowns with the staff ranking against targets, against plain recomputations from the rows
written (tests/management/area_data.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import true

from postloan import areas
from postloan.collections.kpis import collection_kpis
from postloan.management import service
from postloan.policy.loader import default_policy
from postloan.relationship.rules.surveys import csat, nps
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.management import area_data, reference
from tests.management.conftest import MONTH_ENDS, History
from tests.management.test_pages import app, as_user  # noqa: F401

START, END = date(2026, 1, 1), date(2026, 6, 30)
RULES = area_data.RULE_COLUMNS


@pytest.fixture
def loaded(history: History) -> tuple[History, area_data.AreaRows]:
    return history, area_data.add(history)


def _pack(history: History, scope: Any = None) -> service.Pack:
    engine = engine_for(history.url)
    with engine.connect() as conn:
        built = service.build(
            conn, default_policy(), START, END, true() if scope is None else scope
        )
    engine.dispose()
    return built


def _cells(built: service.Pack, kpi: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows = built.area_figures.filter(pl.col("kpi") == kpi)
    return {(r["month"], r["dimension"], r["value"]): r for r in rows.iter_rows(named=True)}


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b))


def test_churn_rates_by_rule_equal_a_plain_recomputation(loaded: Any) -> None:
    history, rows = loaded
    built = _pack(history)
    assert built.area_definitions["churn_any_customers"]["area"] == "churn"
    assert built.area_definitions["churn_any_customers"]["version"] >= 1
    checked = 0
    for day in MONTH_ENDS:
        month = day.strftime("%Y-%m")
        opened: dict[str, set[str]] = defaultdict(set)  # branch → customers with an account
        for loan in history.loans.values():
            if loan["disbursement_date"] <= day:
                opened[history.customers[loan["customer_id"]]["branch_id"]].add(loan["customer_id"])
        for card in history.cards.values():
            if card["open_date"] <= day:
                opened[history.customers[card["customer_id"]]["branch_id"]].add(card["customer_id"])
        outstanding: dict[str, int] = defaultdict(int)
        for r in history.status:
            if r["as_of"] == day:
                outstanding[history.customers[r["customer_id"]]["branch_id"]] += r[
                    "outstanding_principal"
                ]
        for rule in (*RULES, "any"):
            hit = [
                r
                for r in rows.identified
                if r["as_of"] == day and (any(r[k] for k in RULES) if rule == "any" else r[rule])
            ]
            for value, branches in [("all", list(opened)), *[(b, [b]) for b in opened]]:
                dimension = "portfolio" if value == "all" else "branch"
                mine = [r for r in hit if r["branch_id"] in branches]
                base = sum(len(opened[b]) for b in branches)
                money = sum(outstanding[b] for b in branches)
                cell = _cells(built, f"churn_{rule}_customers")[(month, dimension, value)]
                assert cell["numerator"] == len(mine) and cell["denominator"] == base
                assert _close(cell["ratio"], len(mine) / base if base else None)
                cell = _cells(built, f"churn_{rule}_balance")[(month, dimension, value)]
                assert cell["numerator"] == sum(r["balance"] for r in mine)
                assert cell["denominator"] == money
                checked += 1
    assert checked > 0


def test_complaints_and_satisfaction_equal_a_plain_recomputation(loaded: Any) -> None:
    history, rows = loaded
    built = _pack(history)
    policy = default_policy()
    clock = policy.relationship.complaints.clock
    assert clock.day_count == "calendar"  # the deadline below counts calendar days
    received_cells = _cells(built, "complaints_received")
    on_time_cells = _cells(built, "complaint_on_time_rate")
    breached_cells = _cells(built, "complaints_breached_open")
    branch_of = {k: c["branch_id"] for k, c in history.customers.items()}
    seen = 0
    for day in MONTH_ENDS:
        month = day.strftime("%Y-%m")
        for value in ["all", *sorted({branch_of[c["customer_id"]] for c in rows.complaints})]:
            dimension = "portfolio" if value == "all" else "branch"
            mine = [
                c for c in rows.complaints if value == "all" or branch_of[c["customer_id"]] == value
            ]
            due = {
                id(c): c["received_on"]
                + timedelta(days=clock.complex_days if c["complex"] else clock.decide_days)
                for c in mine
            }
            received = sum(1 for c in mine if c["received_on"].strftime("%Y-%m") == month)
            decided = [
                c for c in mine if c["decided_on"] and c["decided_on"].strftime("%Y-%m") == month
            ]
            on_time = sum(1 for c in decided if c["decided_on"] <= due[id(c)])
            breached = sum(
                1
                for c in mine
                if c["received_on"] <= day
                and (c["decided_on"] is None or c["decided_on"] > day)
                and due[id(c)] < day
            )
            key = (month, dimension, value)
            assert received_cells[key]["numerator"] == received, key
            assert on_time_cells[key]["numerator"] == on_time, key
            assert on_time_cells[key]["denominator"] == len(decided), key
            assert _close(on_time_cells[key]["ratio"], on_time / len(decided) if decided else None)
            assert breached_cells[key]["numerator"] == breached, key
            seen += received + breached
    assert seen > 0
    cfg = policy.relationship.surveys
    csat_cells, nps_cells = _cells(built, "csat"), _cells(built, "nps")
    for day in MONTH_ENDS:
        month = day.strftime("%Y-%m")
        in_month = [a for a in rows.answers if a["answered_on"].strftime("%Y-%m") == month]
        for value in ["all", *sorted({a["branch_id"] for a in in_month})]:
            mine = [a for a in in_month if value == "all" or a["branch_id"] == value]
            key = (month, "portfolio" if value == "all" else "branch", value)
            satisfied = sum(1 for a in mine if a["csat"] >= cfg.csat_satisfied_from)
            assert csat_cells[key]["numerator"] == satisfied
            assert csat_cells[key]["denominator"] == len(mine)
            assert _close(csat_cells[key]["ratio"], satisfied / len(mine))
            promoters = sum(1 for a in mine if a["nps"] >= 9)
            detractors = sum(1 for a in mine if a["nps"] <= 6)
            assert _close(nps_cells[key]["ratio"], (promoters - detractors) / len(mine))
            interval = csat([a["csat"] for a in mine], cfg.csat_satisfied_from, cfg.confidence)
            assert _close(csat_cells[key]["low"], interval.low / 100)  # type: ignore[operator]
            n_interval = nps([a["nps"] for a in mine], cfg.confidence)
            if n_interval.low is not None:
                assert _close(nps_cells[key]["high"], n_interval.high / 100)  # type: ignore[operator]


def test_collections_kpis_are_each_months_kpi1(loaded: Any) -> None:
    """The pack's collections rows are KPI-1 for each calendar month (collections' own
    computation), and the portfolio's recovery rate equals a plain recomputation."""
    history, _ = loaded
    built = _pack(history)
    engine = engine_for(history.url)
    with engine.connect() as conn:
        for day in MONTH_ENDS:
            month = day.strftime("%Y-%m")
            found = collection_kpis(conn, date.fromisoformat(month + "-01"), day, default_policy())
            for line in found.table.iter_rows(named=True):
                cell = _cells(built, "collections_recovery_rate")[
                    (month, line["level"], line["key"])
                ]
                assert cell["numerator"] == line["cash_recovered"]
                assert cell["denominator"] == line["opening_overdue"]
                assert _close(cell["ratio"], line["recovery_rate"])
            for bucket in found.cure_by_bucket.iter_rows(named=True):
                cell = _cells(built, "collections_cure_rate")[(month, "bucket", bucket["bucket"])]
                assert _close(cell["ratio"], bucket["cure_rate"])
    engine.dispose()
    # Plain: opening = the last stored date before the month; pool = accounts overdue then;
    # cash in (opening, closing] net of reversals, at most the opening overdue per account.
    dates = sorted({r["as_of"] for r in history.status})
    reversed_ids = {
        p["reverses_payment_id"]: p for p in history.payments if p["reverses_payment_id"]
    }
    recovered_any = 0
    for day in MONTH_ENDS[1:]:
        first = date(day.year, day.month, 1)
        opening = max(d for d in dates if d < first)
        pool = {r["account_id"]: r["overdue_amount"] for r in history.status
                if r["as_of"] == opening and r["overdue_amount"] > 0}  # fmt: skip
        cash: dict[str, int] = defaultdict(int)
        for p in history.payments:
            if p["reverses_payment_id"] or not opening < p["value_date"] <= day:
                continue
            back = reversed_ids.get(p["payment_id"])
            if back is not None and back["value_date"] <= day:
                continue
            cash[p["account_id"]] += p["amount"]
        numerator = sum(min(cash[a], owed) for a, owed in pool.items())
        cell = _cells(built, "collections_recovery_rate")[
            (day.strftime("%Y-%m"), "portfolio", "all")
        ]
        assert cell["numerator"] == numerator and cell["denominator"] == sum(pool.values())
        recovered_any += numerator
    assert recovered_any > 0


def test_only_registered_areas_give_figures(loaded: Any) -> None:
    history, _ = loaded
    areas.unregister("churn")
    try:
        built = _pack(history)
    finally:  # back in the registry's order (steps keep declaration order among equals)
        later = [a for a in areas.areas()]
        for area in later:
            areas.unregister(area.name)
        for area in areas.BUILT_IN:
            areas.register(area)
        for area in later:
            if area not in areas.BUILT_IN:
                areas.register(area)
    assert not any(d["area"] == "churn" for d in built.area_definitions.values())
    assert built.area_figures.filter(pl.col("area") == "churn").height == 0
    assert built.area_figures.filter(pl.col("area") == "relationship").height > 0


def test_a_branch_scope_gets_its_branch_and_no_collector_lines(loaded: Any) -> None:
    history, rows = loaded
    built = _pack(history, customers.c.branch_id == "B1")
    whole = _cells(built, "churn_any_customers")
    for day in MONTH_ENDS:
        month = day.strftime("%Y-%m")
        hit = [
            r
            for r in rows.identified
            if r["as_of"] == day and r["branch_id"] == "B1" and any(r[k] for k in RULES)
        ]
        assert whole[(month, "portfolio", "all")]["numerator"] == len(hit)
    assert set(built.area_figures["value"].unique()) <= {"all", "B1"}
    assert built.area_figures.filter(pl.col("area") == "collections").height == 0
    assert any("collections" in note for note in built.left_out)


def _holder(rows: area_data.AreaRows, customer: str, day: date) -> str | None:
    names = {v: k for k, v in rows.user_ids.items()}
    mine = [r for r in rows.log if r["customer_id"] == customer and r["business_date"] <= day]
    if not mine:
        return None
    last = mine[-1]
    who = last["from_user_id"] if last["kind"] == "release" else last["to_user_id"]
    return names[who]


@pytest.mark.parametrize("dimension", ["collector", "team"])
def test_team_and_collector_breakdowns_equal_a_plain_recomputation(
    loaded: Any, dimension: str
) -> None:
    history, rows = loaded
    built = _pack(history)
    ends = reference.month_ends(history, START, END)
    definition = built.definitions["npl_ratio"]
    expected: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in history.status:
        if r["as_of"] not in ends or not reference.in_pool(r):
            continue
        who = _holder(rows, r["customer_id"], r["as_of"])
        value = (
            "(none)"
            if who is None
            else who
            if dimension == "collector"
            else area_data.COLLECTORS[who] or "(no team)"
        )
        expected[(r["as_of"], value)][1] += r["outstanding_principal"]
        if reference.meets(definition, r):
            expected[(r["as_of"], value)][0] += r["outstanding_principal"]
    got = {
        (r["as_of"], r["value"]): r
        for r in built.figures.filter(pl.col("dimension") == dimension).iter_rows(named=True)
    }
    assert {k for k, v in got.items() if v["accounts"]} == set(expected)
    for key, (numerator, denominator) in expected.items():
        assert got[key]["npl_ratio_numerator"] == numerator, key
        assert got[key]["npl_ratio_denominator"] == denominator, key
    assert len({v for _, v in expected}) > 2  # several holders, and some customers never held


def _key(line: dict[str, Any], target: Any) -> float:
    """Smaller is better: the figure (negated when higher is better); a missing one last."""
    v = line[target.kpi]
    if v is None:
        return math.inf
    return float(v if target.direction == "at_most" else -v)


def test_staff_ranks_and_target_attainment_equal_a_plain_recomputation(loaded: Any) -> None:
    history, _ = loaded
    built = _pack(history)
    policy = default_policy().management
    last = built.months["as_of"][-1]
    figures = built.figures.filter(pl.col("as_of") == last)
    staff = {(r["dimension"], r["value"]): r for r in built.staff.iter_rows(named=True)}
    for dimension in ("branch", "officer", "team", "collector"):
        lines = [r for r in figures.iter_rows(named=True)
                 if r["dimension"] == dimension and r["value"] != "(none)"]  # fmt: skip
        assert lines, dimension
        targets: dict[str, Any] = {}
        for t in policy.targets:
            if dimension in t.dimensions:
                targets.setdefault(t.kpi, t)
        first = next(iter(targets.values()))
        for line in lines:
            row = staff[(dimension, line["value"])]
            met = 0
            for kpi, t in targets.items():
                figure = line[kpi]
                ok = (
                    None
                    if figure is None
                    else (figure <= t.value if t.direction == "at_most" else figure >= t.value)
                )
                assert row[f"{kpi}_met"] == ok, (dimension, line["value"], kpi)
                assert row[f"{kpi}_target"] == t.value
                met += bool(ok)
            assert row["targets_met"] == met
            assert row["targets_applicable"] == len(targets)

            better = sum(1 for other in lines if _key(other, first) < _key(line, first))
            assert row["rank"] == better + 1, (dimension, line["value"])
            assert row["rank_kpi"] == first.kpi
    assert any(r["cure_rate_target"] is not None for r in staff.values())
    assert all(r["cure_rate_target"] is None for (d, _), r in staff.items() if d == "branch")


def test_the_dashboards_show_the_areas_figures_and_the_staff(
    loaded: Any,
    as_user: Any,  # noqa: F811
) -> None:
    history, _ = loaded
    boss = as_user("boss")
    boss.get("/lang/en")
    retention = boss.get("/management?from=2026-01-01&to=2026-06-30&view=retention")
    assert retention.status_code == 200, retention.text
    assert 'id="management-areas"' in retention.text
    assert (
        'data-kpi="churn_any_customers"' in retention.text and 'data-kpi="csat"' in retention.text
    )
    assert 'data-kpi="collections_recovery_rate"' not in retention.text
    collections = boss.get("/management?from=2026-01-01&to=2026-06-30&view=collections")
    assert 'data-kpi="collections_recovery_rate"' in collections.text
    assert 'data-kpi="csat"' not in collections.text
    risk = boss.get("/management?from=2026-01-01&to=2026-06-30&view=risk")
    assert 'id="management-areas"' not in risk.text
    built = _pack(history)
    for row in built.staff.filter(pl.col("dimension") == "collector").iter_rows(named=True):
        assert (
            f'data-dimension="collector" data-value="{row["value"]}" data-rank="{row["rank"]}"'
            in (risk.text)
        )
