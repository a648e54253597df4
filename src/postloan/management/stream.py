"""The pack's parts computed from the status one month-end at a time (issue 16 item 7).

Month-end t's figures need, besides t's status rows: the previous month-end's rows (the roll
matrix and the recoveries pair them with t's), whether each account met an "ever" numerator on
some earlier month-end, and whether each loan was at DPD ≥ n on an earlier month-end (its
first such month-end is its vintage hit). Reading every month-end's rows at once holds all of
them in memory with their dimensions — 1M accounts × 24 month-ends grew past 16.6 GB and was
killed. Here the history's month-ends are walked in order, each read once, with what the next
one needs carried over (`Carried`): the previous month-end's rows with their dimensions, the
accounts that met each "ever" numerator before it, and the accounts at DPD ≥ n up to it — the
two sets grown from each month's own rows, so no earlier month-end is read again. Memory is
about two month-ends of status plus those sets, whatever the number of months.

Used twice: `parts`, the pack computed from the status in any scope (`service.build` for a
branch manager, or a whole-book pack the stored totals do not cover), from the history's first
month-end with empty sets; and `totals.store_months`, the daily run's month totals, which seeds
the state for the run's first month from the store (one `DISTINCT` read per set) and goes on
the same way, storing each month's frames. `combine` turns per-month frames into the pack's
parts for both, and for `totals.load`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection

from postloan.management import queries, service
from postloan.management.rules import pack as rules
from postloan.policy import Policy
from postloan.policy.management import Management

# The per-month frames `combine` concatenates over every month-end of the history, and those
# it needs for the pack's months only.
EVERY_MONTH = ("sums", "hits")
PACK_MONTHS = ("roll", "back", "disbursed", "dormant", "cycle")


@dataclass(frozen=True)
class Inputs:
    """What every month reads alike, read once: the customers and loans with their
    breakdowns, the loans with every undated breakdown (disbursement), the disposals up to the
    history's last month-end, the cards, and whether tiering's table is there."""

    custs: pl.DataFrame
    loans: pl.DataFrame
    loan_dims: pl.DataFrame
    disposed: pl.DataFrame | None
    cards: pl.DataFrame
    tiered: bool


def inputs(
    source: Any, conn: Connection, policy: Policy, scope: ColumnElement[bool], upto: date
) -> Inputs:
    custs, loans = service._attributes(source, conn, policy, scope)
    return Inputs(
        custs=custs,
        loans=loans,
        loan_dims=service._loan_dims(loans, custs),
        disposed=service._disposed(source, conn, upto),
        cards=queries.cards(source, scope),
        tiered=queries.has_table(conn, "tier_assignments"),
    )


@dataclass(frozen=True)
class Carried:
    """What month-end t takes from the ones before it (t−1 the previous month-end):
    `previous`: t−1's status rows with their dimensions (`service._attach`), None at the
    history's first; `ever`: account_id and `_ever_<kpi>` per "ever" definition — met its
    numerator on a month-end before t−1 (t−1's own rows are in the window with t's); `reached`:
    account_id and `_n<n>` per vintage threshold — at DPD ≥ n on a month-end up to t−1. A set is
    None when the policy has no definition of its kind."""

    previous: pl.DataFrame | None
    ever: pl.DataFrame | None
    reached: pl.DataFrame | None


def ever_conditions(management: Management) -> dict[str, pl.Expr]:
    """The "ever" definitions' numerators (before the pool), by their carried column."""
    return {
        f"_ever_{kpi}": rules.meets(d) for kpi, d in management.kpis.items() if d.status == "ever"
    }


def vintage_conditions(management: Management) -> dict[str, pl.Expr]:
    return {f"_n{n}": pl.col("dpd") >= n for n in management.vintage_dpd}


def _empty(conditions: Mapping[str, pl.Expr]) -> pl.DataFrame | None:
    if not conditions:
        return None
    return pl.DataFrame(schema={"account_id": pl.String, **dict.fromkeys(conditions, pl.Boolean)})


def beginning(management: Management) -> Carried:
    """The state before the history's first month-end: nothing seen yet."""
    return Carried(
        previous=None,
        ever=_empty(ever_conditions(management)),
        reached=_empty(vintage_conditions(management)),
    )


def grow(
    known: pl.DataFrame | None, rows: pl.DataFrame, conditions: Mapping[str, pl.Expr]
) -> pl.DataFrame | None:
    """`known` (account_id, one boolean per condition) with what one month-end's `rows` add:
    an account's column turns true once any of its month-ends met the condition."""
    if known is None:
        return None
    names = list(conditions)
    met = rows.select(
        "account_id", *(c.fill_null(False).alias(n) for n, c in conditions.items())
    ).filter(pl.any_horizontal(names))
    return known.join(met, on="account_id", how="full", coalesce=True, suffix="_new").select(
        "account_id",
        *(
            (pl.col(n).fill_null(False) | pl.col(f"{n}_new").fill_null(False)).alias(n)
            for n in names
        ),
    )


def attached(
    source: Any, conn: Connection, inputs_: Inputs, day: date, scope: ColumnElement[bool]
) -> pl.DataFrame:
    """`day`'s status rows in `scope` with their dimensions (the tier and the collector as on
    the day)."""
    status = queries.status_rows(source, [day], scope)
    tiers = queries.tiers(source, [day]) if inputs_.tiered else None
    held = service._holders(conn, [day])
    return service._attach(status, inputs_.custs, inputs_.loans, tiers, inputs_.disposed, held)


def month(
    source: Any,
    conn: Connection,
    policy: Policy,
    inputs_: Inputs,
    scope: ColumnElement[bool],
    carried: Carried,
    pair: pl.DataFrame,
    wanted: bool = True,
) -> tuple[dict[str, pl.DataFrame], list[int], Carried]:
    """One month-end's frames, its status rows' runs and the state for the next month-end.
    `pair`: the history's rows (as_of, month) of the previous month-end (absent at the
    history's first) and this one. Always `sums` (`rules.aggregates`) and `hits` (the loans
    whose first month-end at DPD ≥ n this is); when `wanted` (a month of the pack) also `roll`
    and `back` of the pair, the month's `disbursed`, `dormant` and, with cycle-end
    definitions, `cycle`."""
    m = policy.management
    day = pair["as_of"][-1]
    current = attached(source, conn, inputs_, day, scope)
    previous = carried.previous
    window = current if previous is None else pl.concat([previous, current], how="vertical_relaxed")
    flagged = rules.with_flags(window, m, carried.ever)
    only = pl.col("as_of") == day
    on_day = current.filter(pl.col("account_type") == "loan").select("account_id", "as_of", "dpd")
    hits = [pl.DataFrame(schema=rules.VINTAGE_HITS)]
    for n in m.vintage_dpd:
        fresh = on_day
        if carried.reached is not None:
            seen = carried.reached.filter(pl.col(f"_n{n}").fill_null(False)).select("account_id")
            fresh = on_day.join(seen, on="account_id", how="anti")
        hits.append(rules.vintage_hits(fresh, inputs_.loans, [n]))
    frames = {"sums": rules.aggregates(flagged.filter(only), m), "hits": pl.concat(hits)}
    if wanted:
        frames.update(_pack_month(source, conn, policy, inputs_, scope, flagged, pair))
    runs = current["run_id"].unique().sort().to_list()
    after = Carried(
        previous=current,
        ever=carried.ever if previous is None else grow(carried.ever, previous, ever_conditions(m)),
        reached=grow(carried.reached, current, vintage_conditions(m)),
    )
    return frames, runs, after


def _pack_month(
    source: Any,
    conn: Connection,
    policy: Policy,
    inputs_: Inputs,
    scope: ColumnElement[bool],
    flagged: pl.DataFrame,
    pair: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """The frames only the pack's own months need (`month`)."""
    m = policy.management
    day = pair["as_of"][-1]
    only = pl.col("as_of") == day
    this = pair.filter(only)
    buckets = [b.name for b in policy.dpd_buckets]
    if pair.height == 2:
        cash = (
            queries.cash(source, pair["as_of"][0], day, scope)
            .with_columns(pl.lit(day).alias("as_of"))
            .group_by("account_id", "as_of")
            .agg(pl.col("amount").sum().alias("cash"))
        )
    else:  # the history's first month-end: no recoveries (nothing to pair it with)
        cash = pl.DataFrame(schema={"account_id": pl.String, "as_of": pl.Date, "cash": pl.Int64})
    balances = flagged.filter((pl.col("account_type") == "card") & only).select(
        pl.col("account_id").alias("card_id"),
        "as_of",
        (pl.col("outstanding_principal") + pl.col("overdue_amount")).alias("balance"),
    )
    frames = {
        "roll": rules.roll_matrix(flagged, pair, buckets, rules.DIMENSIONS).filter(only),
        "back": rules.recovered(flagged, pair, cash).filter(only),
        "disbursed": rules.disbursement(inputs_.loan_dims, this),
        "dormant": rules.dormant_share(
            inputs_.cards,
            # from a little before the dormancy window: an older transaction cannot matter
            queries.last_card_activity(
                source, day, day - timedelta(days=31 * (m.dormant_months + 1)), scope
            ),
            balances,
            this,
            m.dormant_months,
        ),
    }
    attributes = (inputs_.custs, inputs_.loans, inputs_.disposed)
    cycle = service._cycle(source, conn, policy, this, scope, attributes)
    if cycle is not None:  # the card cycle-end definitions' sums of the month
        frames["cycle"] = cycle
    return frames


def parts(
    source: Any,
    conn: Connection,
    policy: Policy,
    history: pl.DataFrame,
    months: pl.DataFrame,
    scope: ColumnElement[bool],
) -> service.Parts:
    """The pack's parts from the status in `scope`: every month-end of `history` (as_of,
    month) in order from its first, the pack's `months` in full (module doc)."""
    m = policy.management
    days = history["as_of"].to_list()
    wanted = set(months["as_of"].to_list())
    given = inputs(source, conn, policy, scope, days[-1])
    carried = beginning(m)
    collected: dict[str, list[pl.DataFrame]] = {}
    runs: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        pair = history.slice(max(i - 1, 0), 2 if i else 1)
        frames, run_ids, carried = month(
            source, conn, policy, given, scope, carried, pair, day in wanted
        )
        for name, frame in frames.items():
            collected.setdefault(name, []).append(frame)
        if day in wanted and run_ids:
            runs.append({"month": pair["month"][-1], "run_id": run_ids})
    areas = service.area_figures(conn, policy, months.select("as_of", "month"), scope)
    return combine(policy, collected, rules.vintage_sizes(given.loans), days[-1], runs, areas)


def combine(
    policy: Policy,
    collected: Mapping[str, Sequence[pl.DataFrame]],
    sizes: pl.DataFrame,
    last: date,
    runs: list[dict[str, Any]],
    areas: tuple[dict[str, dict[str, Any]], pl.DataFrame, list[str]],
) -> service.Parts:
    """The pack's parts from per-month frames (`collected`: name → one frame per month-end,
    in order — `EVERY_MONTH` for every month-end of the history, `PACK_MONTHS` for the pack's
    months), the cohorts' sizes, the history's last month-end, the runs of the pack's months
    (month, run_id list) and the other areas' figures."""
    m = policy.management
    rank = {b: i for i, b in enumerate([*(b.name for b in policy.dpd_buckets), rules.CLOSED])}
    order = [
        pl.col(c).replace_strict(rank, return_dtype=pl.Int32) for c in ("from_bucket", "to_bucket")
    ]

    def joined(name: str) -> pl.DataFrame:
        return pl.concat(collected[name], how="vertical_relaxed")

    roll = joined("roll").sort(
        pl.col("as_of"), pl.col("dimension"), pl.col("value"), *order
    )  # the matrix's order: buckets in the policy's order, then closed
    return service.Parts(
        sums=joined("sums"),
        roll=roll,
        back=joined("back"),
        disbursed=joined("disbursed"),
        dormant=joined("dormant"),
        vintage=rules.vintage_curves(
            joined("hits"), sizes, last.year * 12 + last.month, m.vintage_dpd
        ),
        runs=pl.DataFrame(runs, schema={"month": pl.String, "run_id": pl.List(pl.Int64)}),
        areas=areas,
        cycle=joined("cycle") if rules.cycle_kpis(m) and collected.get("cycle") else None,
    )
