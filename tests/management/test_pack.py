"""The pack against plain recomputations from the account-status rows of a hand-built history
(tests/management/reference.py), on SQLite and PostgreSQL: every KPI definition in both 口径
(amount/count, current/lagged, current/ever) per month-end and breakdown; the roll-rate
matrix's rows; C→M1 and cure rates; vintage curves; drill-down sums; the definitions' version
and runs named on every figure."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, date, datetime

import polars as pl
import pytest
from sqlalchemy import true

from postloan.errors import InvalidError, NotFoundError
from postloan.management import queries, service
from postloan.management.rules.pack import definitions_version
from postloan.policy.loader import default_policy
from postloan.store.db import engine_for
from tests.management import reference
from tests.management.conftest import MID_MONTH, MONTH_ENDS, History

START, END = date(2026, 1, 1), date(2026, 6, 30)


def _pack(history: History) -> service.Pack:
    engine = engine_for(history.url)
    with engine.connect() as conn:
        built = service.build(conn, default_policy(), START, END, true())
    engine.dispose()
    return built


def test_month_ends_are_each_months_last_stored_date(history: History) -> None:
    built = _pack(history)
    assert built.months["as_of"].to_list() == MONTH_ENDS  # 15 June is stored, 30 June wins
    assert built.runs == {d.strftime("%Y-%m"): [1 if d < MONTH_ENDS[3] else 2] for d in MONTH_ENDS}
    assert built.definitions_version == definitions_version(default_policy().management)
    assert built.definitions["overdue_rate"]["version"] == 1


def test_stored_dates_walk_the_key_and_equal_the_distinct_dates(history: History) -> None:
    """`queries.stored_dates` (a loose index scan, not a GROUP BY over every status row) gives
    exactly the distinct stored dates up to the bound, in order, on each backend."""
    stored = sorted({r["as_of"] for r in history.status})
    engine = engine_for(history.url)
    with engine.connect() as conn:
        for upto in (*stored, date(2199, 12, 31), date(2025, 12, 31), MID_MONTH.replace(day=16)):
            assert queries.stored_dates(conn, upto) == [d for d in stored if d <= upto]
    engine.dispose()
    assert MID_MONTH in stored and len(stored) == len(MONTH_ENDS) + 1


@pytest.mark.parametrize("dimension", ["portfolio", "branch", "product", "officer"])
def test_every_kpi_equals_a_plain_recomputation(history: History, dimension: str) -> None:
    built = _pack(history)
    ends = reference.month_ends(history, START, END)
    figures = built.figures.filter(pl.col("dimension") == dimension)
    lagged_seen = ever_differs = 0
    for kpi, definition in built.definitions.items():
        expected = reference.kpi_cells(history, definition, dimension, ends)
        got = {(r["as_of"], r["value"]): r for r in figures.iter_rows(named=True)}
        assert set(got) == set(expected), kpi
        for key, (numerator, denominator) in expected.items():
            row = got[key]
            assert row[f"{kpi}_numerator"] == numerator, (kpi, key)
            assert row[f"{kpi}_denominator"] == denominator, (kpi, key)
            if denominator:
                assert math.isclose(row[kpi], numerator / denominator), (kpi, key)
            else:
                assert row[kpi] is None, (kpi, key)
            lagged_seen += definition["timing"] == "lagged" and denominator is not None
        if kpi == "dpd30_ever":
            current = reference.kpi_cells(
                history, built.definitions["dpd30_ratio"], dimension, ends
            )
            ever_differs += sum(expected[k][0] != current[k][0] for k in expected)
    assert lagged_seen > 0  # the history is long enough for the lag
    assert ever_differs > 0  # some account cured: ever and current differ in this history


def test_count_and_amount_bases_differ_and_count_is_accounts(history: History) -> None:
    built = _pack(history)
    whole = built.figures.filter(pl.col("dimension") == "portfolio")
    for row in whole.iter_rows(named=True):
        overdue = [
            r
            for r in history.status
            if r["as_of"] == row["as_of"] and reference.in_pool(r) and r["dpd"] >= 1
        ]
        assert row["overdue_count_rate_numerator"] == len(overdue)
        assert row["overdue_count_rate_denominator"] == row["accounts"]
    assert (whole["overdue_count_rate"] != whole["overdue_rate"]).any()


def test_roll_rate_rows_sum_to_their_bucket_and_match_the_rows(history: History) -> None:
    built = _pack(history)
    roll = built.roll.filter(pl.col("dimension") == "portfolio")
    ends = reference.month_ends(history, START, END)
    at = {(r["as_of"], r["account_id"]): r for r in history.status if r["as_of"] in ends}
    for prev, day in itertools.pairwise(ends):
        cells: dict[tuple[str, str], int] = defaultdict(int)
        for (d, account), row in at.items():
            if d != prev or not reference.in_pool(row):
                continue
            after = at.get((day, account))
            to = after["bucket"] if after and reference.in_pool(after) else "closed"
            cells[(row["bucket"], to)] += row["outstanding_principal"]
        got = {
            (r["from_bucket"], r["to_bucket"]): r["balance"]
            for r in roll.filter(pl.col("as_of") == day).iter_rows(named=True)
        }
        assert got == dict(cells)
        month = roll.filter(pl.col("as_of") == day)
        for (_bucket,), part in month.group_by(["from_bucket"]):
            assert part["balance"].sum() == part["from_balance"][0]
            assert math.isclose(part["share"].sum(), 1.0)


def test_c_m1_and_cure_rates_follow_the_matrix(history: History) -> None:
    built = _pack(history)
    ends = reference.month_ends(history, START, END)
    at = {(r["as_of"], r["account_id"]): r for r in history.status if r["as_of"] in ends}
    portfolio = built.figures.filter(pl.col("dimension") == "portfolio")
    whole = {r["as_of"]: r for r in portfolio.iter_rows(named=True)}
    for prev, day in itertools.pairwise(ends):
        entered = current = cured = overdue = 0
        for (d, account), row in at.items():
            if d != prev or not reference.in_pool(row):
                continue
            after = at.get((day, account))
            to = after["bucket"] if after and reference.in_pool(after) else "closed"
            if row["bucket"] == "current":
                current += row["outstanding_principal"]
                entered += row["outstanding_principal"] if to == "M1" else 0
            else:
                overdue += row["outstanding_principal"]
                cured += row["outstanding_principal"] if to == "current" else 0
        assert whole[day]["c_m1_rate"] == pytest.approx(entered / current)
        assert whole[day]["cure_rate"] == pytest.approx(cured / overdue)
    assert whole[ends[0]]["c_m1_rate"] is None  # no month before the first


def test_vintage_ever_curves_never_fall_and_match_the_rows(history: History) -> None:
    built = _pack(history)
    assert built.vintage.height
    for (_cohort, _dpd), part in built.vintage.group_by(["cohort", "dpd"]):
        rates = part.sort("mob")["ever_principal"].to_list()
        assert rates == sorted(rates)
    # One point by hand: the DPD30+ share of the 2025-10 cohort at MOB 5 (2026-03).
    cohort = {
        k: v
        for k, v in history.loans.items()
        if v["disbursement_date"].strftime("%Y-%m") == "2025-10"
    }
    ends = [d for d in MONTH_ENDS if d <= date(2026, 3, 31)]
    bad = {
        r["account_id"]
        for r in history.status
        if r["account_id"] in cohort and r["as_of"] in ends and r["dpd"] >= 30
    }
    row = built.vintage.filter(
        (pl.col("cohort") == "2025-10") & (pl.col("mob") == 5) & (pl.col("dpd") == 30)
    ).row(0, named=True)
    assert row["cohort_principal"] == sum(v["principal"] for v in cohort.values())
    assert row["ever_principal"] == sum(cohort[a]["principal"] for a in bad)


def test_disbursement_and_recoveries(history: History) -> None:
    built = _pack(history)
    portfolio = built.figures.filter(pl.col("dimension") == "portfolio")
    whole = {r["month"]: r for r in portfolio.iter_rows(named=True)}
    for month, row in whole.items():
        loans = [
            v for v in history.loans.values() if v["disbursement_date"].strftime("%Y-%m") == month
        ]
        assert row["disbursed_count"] == len(loans)
        assert row["disbursed_amount"] == sum(v["principal"] for v in loans)
    ends = MONTH_ENDS
    at = {(r["as_of"], r["account_id"]): r for r in history.status}
    for prev, day in itertools.pairwise(ends):
        principal = interest = 0
        for account, loan in history.loans.items():
            now = at.get((day, account))
            if now is None:
                continue
            before = at.get((prev, account))
            new = loan["principal"] if prev < loan["disbursement_date"] <= day else 0
            back = max(
                (before["outstanding_principal"] if before else 0)
                + new
                - now["outstanding_principal"],
                0,
            )
            cash = sum(
                (-p["amount"] if p["reverses_payment_id"] else p["amount"])
                for p in history.payments
                if p["account_id"] == account and prev < p["value_date"] <= day
            )
            principal += back
            interest += max(cash - back, 0)
        assert whole[day.strftime("%Y-%m")]["principal_recovered"] == principal
        assert whole[day.strftime("%Y-%m")]["interest_recovered"] == interest


@pytest.mark.parametrize("kpi", ["npl_ratio", "dpd30_ever", "overdue_count_rate"])
def test_drill_down_sums_to_the_cell(history: History, kpi: str) -> None:
    built = _pack(history)
    engine = engine_for(history.url)
    with engine.connect() as conn:
        for row in built.figures.filter(pl.col("dimension") == "branch").iter_rows(named=True):
            found = service.drill(
                conn, default_policy(), row["as_of"], "branch", row["value"], kpi, true()
            )
            assert found["numerator"] == row[f"{kpi}_numerator"]
            assert sum(a["counted"] for a in found["accounts"]) == row[f"{kpi}_numerator"]
            assert {a["branch"] for a in found["accounts"]} <= {row["value"]}
        # Any stored date, not only month-ends: 15 June against its rows.
        found = service.drill(
            conn, default_policy(), MID_MONTH, "portfolio", "all", "npl_ratio", true()
        )
        expected = sum(
            r["outstanding_principal"]
            for r in history.status
            if r["as_of"] == MID_MONTH and reference.in_pool(r) and r["risk_class"] in reference.NPL
        )
        assert found["numerator"] == expected
        with pytest.raises(NotFoundError):
            service.drill(
                conn, default_policy(), date(2026, 6, 16), "portfolio", "all", "npl_ratio", true()
            )
        with pytest.raises(NotFoundError):
            service.drill(conn, default_policy(), MID_MONTH, "portfolio", "all", "nope", true())
        with pytest.raises(InvalidError):
            service.build(conn, default_policy(), END, START, true())
    engine.dispose()


def test_the_scope_narrows_every_figure(history: History) -> None:
    from postloan.store.schema import customers

    engine = engine_for(history.url)
    with engine.connect() as conn:
        mine = service.build(conn, default_policy(), START, END, customers.c.branch_id == "B2")
    engine.dispose()
    whole = mine.figures.filter(pl.col("dimension") == "portfolio")
    branch = _pack(history).figures.filter(
        (pl.col("dimension") == "branch") & (pl.col("value") == "B2")
    )
    assert whole["outstanding_principal"].to_list() == branch["outstanding_principal"].to_list()
    assert set(mine.figures.filter(pl.col("dimension") == "branch")["value"]) == {"B2"}


def test_written_off_accounts_leave_the_pool_as_in_the_core_summary(history: History) -> None:
    """An approved write-off takes the account out of every figure from its effective date;
    the pack's NPL and DPD30+ ratios then equal the core summary's (`reports.summary`)."""
    from postloan.collections.legal_tables import account_disposals
    from postloan.reports.summary import stored_disposals, summarise

    effective = MONTH_ENDS[4]
    bad = next(
        r
        for r in history.status
        if r["as_of"] == effective
        and r["risk_class"] in reference.NPL
        and r["outstanding_principal"] > 0
    )
    engine = engine_for(history.url)
    with engine.begin() as conn:
        conn.execute(
            account_disposals.insert().values(
                account_id=bad["account_id"],
                customer_id=bad["customer_id"],
                kind="write_off",
                effective_on=effective,
                principal=bad["outstanding_principal"],
                interest=0,
                fee=0,
                reason="test",
                status="approved",
                proposed_by="a",
                proposed_at=datetime.now(UTC),
                decided_by="b",
                decided_at=datetime.now(UTC),
            )
        )
    built = _pack(history)
    whole = {
        r["as_of"]: r
        for r in built.figures.filter(pl.col("dimension") == "portfolio").iter_rows(named=True)
    }
    with engine.connect() as conn:
        for day in MONTH_ENDS:
            rows = [r for r in history.status if r["as_of"] == day]
            status = pl.DataFrame(rows).select(
                "account_id",
                "as_of",
                "outstanding_principal",
                "overdue_amount",
                "dpd",
                "bucket",
                "risk_class",
            )
            core = summarise(status, default_policy(), stored_disposals(conn, day))
            assert whole[day]["npl_ratio"] == pytest.approx(core.npl_ratio), day
            assert whole[day]["dpd30_ratio"] == pytest.approx(core.dpd30_ratio), day
        found = service.drill(
            conn, default_policy(), effective, "portfolio", "all", "npl_ratio", true()
        )
        before = service.drill(
            conn, default_policy(), MONTH_ENDS[3], "portfolio", "all", "npl_ratio", true()
        )
    engine.dispose()
    assert bad["account_id"] not in {a["account_id"] for a in found["accounts"]}
    assert found["numerator"] == whole[effective]["npl_ratio_numerator"]
    was = [
        r
        for r in history.status
        if r["as_of"] == MONTH_ENDS[3] and r["account_id"] == bad["account_id"]
    ]
    if was and was[0]["risk_class"] in reference.NPL:  # before its effective date it counts
        assert bad["account_id"] in {a["account_id"] for a in before["accounts"]}
