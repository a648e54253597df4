"""The portfolio pack (issue 16 item 2) over month-end account status, set-based in polars.

Input frames (amounts in minor units):
- `status`: one row per (as_of, account) of the month-ends at hand, with the dimension
  columns (`DIMENSIONS`) already attached — the pack walks the history a month-end at a time
  (`management.stream`), handing these rules one month-end and the one before it, with the
  "ever" accounts of the earlier ones as a frame; the rules work on any number of month-ends;
- `months`: `month` (YYYY-MM) and `as_of` (that month's last stored date), ascending.

A row is *in the pool* when the account owes something (outstanding principal or overdue
amount above zero) and is not written off or disposed of (`written_off`: an approved disposal
effective by the date, as in the core summary): paid-off and written-off accounts keep status
rows but are counted in no figure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import polars as pl

from postloan.policy.management import KpiDefinition, Management, Target

NON_PERFORMING = ("substandard", "doubtful", "loss")
# The breakdowns of the pack: by product, branch, officer, tier, and LED-3's classification.
DIMENSIONS = (
    "portfolio",
    "account_type",
    "product",
    "branch",
    "officer",
    "tier",
    "team",
    "collector",
    "purpose",
    "term_band",
    "guarantee",
    "rate_type",
    "borrower_type",
    "industry",
)
# Breakdowns a customer has on a date (not once for all): tiering's tier, the collector holding
# the customer (collections' reassignment log) and that collector's team.
DATED = ("tier", "team", "collector")
# The breakdowns staff are judged on (seed 002 考核与奖惩).
STAFF = ("branch", "officer", "team", "collector")
NONE = "(none)"  # a dimension the account does not have (a card's purpose, a loan's tier gap)
CLOSED = "closed"  # the roll matrix's column for accounts that left the pool


def definitions_version(management: Management) -> str:
    """A short hash of every KPI definition: two packs with the same one used the same 口径."""
    text = json.dumps(
        {k: d.model_dump(mode="json") for k, d in management.kpis.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def term_band(term_months: pl.Expr, bands: Sequence[int]) -> pl.Expr:
    return (
        pl.when(term_months.is_null())
        .then(pl.lit(NONE))
        .when(term_months <= bands[0])
        .then(pl.lit("short"))
        .when(term_months <= bands[1])
        .then(pl.lit("medium"))
        .otherwise(pl.lit("long"))
    )


def _meets(definition: KpiDefinition) -> pl.Expr:
    if definition.numerator == "dpd_at_least":
        return pl.col("dpd") >= definition.min_dpd
    if definition.numerator == "non_performing":
        return pl.col("risk_class").is_in(NON_PERFORMING)
    return pl.col("risk_class") == "loss"


def meets(definition: KpiDefinition) -> pl.Expr:
    """The row meets the definition's numerator (before the pool and "ever")."""
    return _meets(definition)


def with_flags(
    status: pl.DataFrame, management: Management, ever_before: pl.DataFrame | None = None
) -> pl.DataFrame:
    """`in_pool` and one `hit_<kpi>` per definition: the account counts in the numerator on
    the date (for "ever": on the date or on any earlier month-end in `status`, or — when
    `ever_before` is given: account_id and `_ever_<kpi>` — on a month-end before those in
    `status`, as the month-at-a-time walk computes, `management.stream`); `_k` a dense
    integer per account (self-joins on integers, not strings); `_pool_principal`,
    `_pool_overdue` and `_num_<kpi>` what each row adds to the sums (plain sums are faster
    than filtered ones in every group-by)."""
    if ever_before is not None:
        status = status.join(ever_before, on="account_id", how="left")
    frame = status.with_columns(
        pl.col("account_id").cast(pl.Categorical).to_physical().cast(pl.Int64).alias("_k")
    ).with_columns(
        (
            ((pl.col("outstanding_principal") > 0) | (pl.col("overdue_amount") > 0))
            & ~pl.col("written_off")
        ).alias("in_pool")
    )
    flags = []
    for kpi, definition in management.kpis.items():
        hit = _meets(definition) & pl.col("in_pool")
        if definition.status == "ever":
            ever = _meets(definition).cum_max().over("_k", order_by="as_of")
            if ever_before is not None:
                ever = ever | pl.col(f"_ever_{kpi}").fill_null(False)
            hit = ever & pl.col("in_pool")
        flags.append(hit.alias(f"hit_{kpi}"))
    pool = pl.col("in_pool")
    sums = [
        pl.when(pool).then(pl.col("outstanding_principal")).otherwise(0).alias("_pool_principal"),
        pl.when(pool).then(pl.col("overdue_amount")).otherwise(0).alias("_pool_overdue"),
        *(
            pl.when(pl.col(f"hit_{kpi}")).then(counted(d)).otherwise(0).alias(f"_num_{kpi}")
            for kpi, d in management.kpis.items()
        ),
    ]
    return frame.with_columns(flags).with_columns(sums)


def counted(definition: KpiDefinition) -> pl.Expr:
    """What one account adds to a numerator or denominator: its principal or 1."""
    if definition.basis == "amount":
        return pl.col("outstanding_principal")
    return pl.lit(1, pl.Int64)


def _by(frame: pl.LazyFrame, keys: Sequence[str], dimension: str) -> pl.LazyFrame:
    """`frame` grouped by `keys` and the dimension's value ("all" for the portfolio)."""
    if dimension == "portfolio":
        return frame.group_by(*keys)  # type: ignore[return-value]
    return frame.group_by(*keys, pl.col(dimension).alias("value"))  # type: ignore[return-value]


def _per_dimension(
    frame: pl.DataFrame, keys: Sequence[str], aggs: list[pl.Expr], dimensions: Sequence[str]
) -> pl.DataFrame:
    """One group-by per dimension, run together (polars parallelises `collect_all`)."""
    lazy = frame.lazy()
    plans = []
    for dimension in dimensions:
        grouped = _by(lazy, keys, dimension).agg(aggs)  # type: ignore[attr-defined]
        if dimension == "portfolio":
            grouped = grouped.with_columns(pl.lit("all").alias("value"))
        plans.append(
            grouped.with_columns(
                pl.col("value").cast(pl.String), pl.lit(dimension).alias("dimension")
            )
        )
    done = pl.collect_all(plans)
    columns = done[0].columns
    return pl.concat([d.select(columns) for d in done], how="vertical")


def aggregates(flagged: pl.DataFrame, management: Management) -> pl.DataFrame:
    """Per month-end, dimension and value, the sums the figures divide: accounts, balances,
    each KPI's numerator (what `figures` and the stored month totals start from)."""
    return _aggregates(flagged, management)


def _aggregates(flagged: pl.DataFrame, management: Management) -> pl.DataFrame:
    aggs = [
        pl.col("in_pool").sum().cast(pl.Int64).alias("accounts"),
        pl.col("_pool_principal").sum().alias("outstanding_principal"),
        pl.col("_pool_overdue").sum().alias("overdue_amount"),
        pl.col("in_pool").sum().cast(pl.Int64).alias("_count_base"),
        *(
            pl.col(f"_num_{kpi}").sum().cast(pl.Int64).alias(f"{kpi}_numerator")
            for kpi in management.kpis
        ),
    ]
    return _per_dimension(flagged, ["as_of"], aggs, DIMENSIONS)


def figures(flagged: pl.DataFrame, months: pl.DataFrame, management: Management) -> pl.DataFrame:
    """Per month-end, dimension and value: accounts, balances, and each KPI's numerator,
    denominator and ratio (null when the denominator is zero or, lagged, not stored)."""
    return figures_from(_aggregates(flagged, management), months, management)


def figures_from(sums: pl.DataFrame, months: pl.DataFrame, management: Management) -> pl.DataFrame:
    """`figures` from the `aggregates` of every month-end in `months` (lagged denominators
    read the month-ends before)."""
    order = months.with_row_index("_m").select("as_of", pl.col("_m").cast(pl.Int64))
    table = sums.join(order, on="as_of")
    columns = []
    for kpi, definition in management.kpis.items():
        base = "outstanding_principal" if definition.basis == "amount" else "_count_base"
        if definition.timing == "lagged":
            earlier = table.select(
                (pl.col("_m") + definition.lag_months).alias("_m"),
                "dimension",
                "value",
                pl.col(base).alias(f"{kpi}_denominator"),
            )
            table = table.join(earlier, on=["_m", "dimension", "value"], how="left")
        else:
            table = table.with_columns(pl.col(base).alias(f"{kpi}_denominator"))
        den = pl.col(f"{kpi}_denominator")
        columns.append(
            pl.when(den > 0).then(pl.col(f"{kpi}_numerator") / den).otherwise(None).alias(kpi)
        )
    return table.with_columns(columns).drop("_count_base")


def cycle_kpis(management: Management) -> list[str]:
    """The definitions measured at card cycle end (`period = "cycle_end"`)."""
    return [k for k, d in management.kpis.items() if d.period == "cycle_end"]


def cycle_rows(flagged: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Card status rows on statement dates (flagged, dimensions attached) → each card's last
    statement date in each month of `months`, dated by that month-end (`as_of`), the
    statement date kept as `statement_date`."""
    return (
        flagged.filter(pl.col("account_type") == "card")
        .with_columns(pl.col("as_of").dt.strftime("%Y-%m").alias("month"))
        .sort("as_of")
        .unique(subset=["account_id", "month"], keep="last", maintain_order=True)
        .rename({"as_of": "statement_date"})
        .join(months.select("month", "as_of"), on="month")
        .filter(pl.col("statement_date") <= pl.col("as_of"))
    )


def cycle_figures(rows: pl.DataFrame, management: Management) -> pl.DataFrame:
    """Per month-end, dimension and value, each cycle-end definition's numerator and
    denominator from `cycle_rows`: the cards' figures on their own statement dates (账单日口径)
    — the numerator as any definition's, the denominator the pool's principal or cards."""
    aggs = []
    for kpi in cycle_kpis(management):
        definition = management.kpis[kpi]
        base = pl.col("_pool_principal") if definition.basis == "amount" else pl.col("in_pool")
        aggs += [
            pl.col(f"_num_{kpi}").sum().cast(pl.Int64).alias(f"{kpi}_numerator"),
            base.sum().cast(pl.Int64).alias(f"{kpi}_denominator"),
        ]
    return _per_dimension(rows, ["as_of"], aggs, DIMENSIONS)


def with_cycle(table: pl.DataFrame, cycle: pl.DataFrame, management: Management) -> pl.DataFrame:
    """`table` (the figures) with each cycle-end definition's numerator, denominator and
    ratio taken from `cycle` (zero when no card of the cell had a statement in the month)."""
    kpis = cycle_kpis(management)
    if not kpis:
        return table
    keys = ["as_of", "dimension", "value"]
    order = table.columns
    dropped = [c for k in kpis for c in (f"{k}_numerator", f"{k}_denominator", k)]
    return (
        table.drop(dropped)
        .join(cycle, on=keys, how="left")
        .with_columns(
            pl.col(f"{k}_{part}").fill_null(0)
            for k in kpis
            for part in ("numerator", "denominator")
        )
        .with_columns(
            pl.when(pl.col(f"{k}_denominator") > 0)
            .then(pl.col(f"{k}_numerator") / pl.col(f"{k}_denominator"))
            .otherwise(None)
            .alias(k)
            for k in kpis
        )
        .select(order)
    )


def month_index(months: pl.DataFrame) -> pl.DataFrame:
    """as_of → `_m`, the month-end's position (0 = the history's first)."""
    return months.with_row_index("_m").select("as_of", pl.col("_m").cast(pl.Int64))


def roll_matrix(
    flagged: pl.DataFrame, months: pl.DataFrame, buckets: Sequence[str], dimensions: Sequence[str]
) -> pl.DataFrame:
    """迁徙: per month-end t (from its predecessor), dimension value (the account's at t−1),
    from bucket and to bucket: the accounts and their outstanding principal at t−1. An account
    in the pool at t−1 and not at t (paid off, no row) goes to `closed`, so each row of the
    matrix sums to the pool of its bucket at t−1 (shares sum to 1)."""
    order = month_index(months)
    needed = ["_k", "as_of", "bucket", "outstanding_principal", *dimensions[1:]]
    pooled = flagged.filter(pl.col("in_pool")).select(needed).join(order, on="as_of")
    before = pooled.select(
        "_k",
        (pl.col("_m") + 1).alias("_m"),
        pl.col("bucket").alias("from_bucket"),
        "outstanding_principal",
        *dimensions[1:],
    )
    after = pooled.select("_k", "_m", pl.col("bucket").alias("to_bucket"))
    pairs = (
        before.join(after, on=["_k", "_m"], how="left")
        .with_columns(pl.col("to_bucket").fill_null(CLOSED))
        .join(order, on="_m")
    )
    aggs = [
        pl.len().cast(pl.Int64).alias("accounts"),
        pl.col("outstanding_principal").sum().alias("balance"),
    ]
    cells = _per_dimension(pairs, ["as_of", "from_bucket", "to_bucket"], aggs, dimensions)
    row = ["as_of", "dimension", "value", "from_bucket"]
    rank = {b: i for i, b in enumerate([*buckets, CLOSED])}
    return (
        cells.with_columns(
            pl.col("balance").sum().over(row).alias("from_balance"),
        )
        .with_columns(
            (pl.col("balance") / pl.col("from_balance")).alias("share"),
            pl.col("from_bucket").replace_strict(rank, return_dtype=pl.Int32).alias("_f"),
            pl.col("to_bucket").replace_strict(rank, return_dtype=pl.Int32).alias("_t"),
        )
        .sort("as_of", "dimension", "value", "_f", "_t")
        .drop("_f", "_t")
    )


def flow_rates(roll: pl.DataFrame, buckets: Sequence[str]) -> pl.DataFrame:
    """From the roll matrix, per month-end and dimension value: C→M1 entry (入催率: balance
    moving from the first bucket to the second ÷ the first bucket's balance a month before)
    and the cure rate (出催率: balance of the overdue buckets a month before that is current
    now ÷ those buckets' balance), by amount."""
    current, first_overdue = buckets[0], buckets[1]
    cell = pl.col("balance")
    keys = ["as_of", "dimension", "value"]
    return (
        roll.group_by(keys)
        .agg(
            cell.filter((pl.col("from_bucket") == current) & (pl.col("to_bucket") == first_overdue))
            .sum()
            .alias("c_m1_numerator"),
            cell.filter(pl.col("from_bucket") == current).sum().alias("c_m1_denominator"),
            cell.filter((pl.col("from_bucket") != current) & (pl.col("to_bucket") == current))
            .sum()
            .alias("cure_numerator"),
            cell.filter(pl.col("from_bucket") != current).sum().alias("cure_denominator"),
        )
        .with_columns(
            pl.when(pl.col("c_m1_denominator") > 0)
            .then(pl.col("c_m1_numerator") / pl.col("c_m1_denominator"))
            .alias("c_m1_rate"),
            pl.when(pl.col("cure_denominator") > 0)
            .then(pl.col("cure_numerator") / pl.col("cure_denominator"))
            .alias("cure_rate"),
        )
    )


def _month_number(day: pl.Expr) -> pl.Expr:
    return day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64)


VINTAGE_HITS = {"_c": pl.Int64, "mob": pl.Int64, "dpd": pl.Int64, "_new": pl.Int64}


def cohorts(loans: pl.DataFrame) -> pl.DataFrame:
    """account_id, principal, `_c` (the disbursement month as a month number)."""
    return loans.select(
        "account_id", "principal", _month_number(pl.col("disbursement_date")).alias("_c")
    )


def vintage_hits(
    status: pl.DataFrame, loans: pl.DataFrame, thresholds: Sequence[int]
) -> pl.DataFrame:
    """Per cohort `_c`, months on book and threshold: the original principal of the loans
    whose first month-end at DPD ≥ n (among `status`'s) is at that MOB (`_new`)."""
    dated = status.select("account_id", "dpd", _month_number(pl.col("as_of")).alias("_t")).join(
        cohorts(loans), on="account_id"
    )
    out = [pl.DataFrame(schema=VINTAGE_HITS)]
    for n in thresholds:
        out.append(
            dated.filter(pl.col("dpd") >= n)
            .group_by("account_id")
            .agg(
                (pl.col("_t").min() - pl.col("_c").first()).alias("mob"),
                pl.col("principal").first(),
                pl.col("_c").first(),
            )
            .group_by("_c", "mob")
            .agg(pl.col("principal").sum().alias("_new"))
            .with_columns(pl.lit(n, pl.Int64).alias("dpd"))
            .select(list(VINTAGE_HITS))
            .cast(VINTAGE_HITS)  # type: ignore[arg-type]
        )
    return pl.concat(out)


def vintage_sizes(loans: pl.DataFrame) -> pl.DataFrame:
    """`_c`, cohort_principal: each disbursement month's original principal."""
    return cohorts(loans).group_by("_c").agg(pl.col("principal").sum().alias("cohort_principal"))


def vintage_curves(
    hits: pl.DataFrame, sizes: pl.DataFrame, last: int | None, thresholds: Sequence[int]
) -> pl.DataFrame:
    """Vintage curves: per disbursement month (cohort), months on book k and threshold n, the
    original principal of the cohort's loans that were at DPD ≥ n on some month-end up to MOB
    k ÷ the cohort's original principal — from `vintage_hits` (summed over any number of
    month-ends' hits) and the cohorts' sizes, up to the month number `last`. An account's
    first month-end at n+ fixes it in every later MOB: ever-curves never fall."""
    if last is None or not sizes.height:
        return pl.DataFrame(
            schema={
                "cohort": pl.String,
                "mob": pl.Int64,
                "dpd": pl.Int64,
                "ever_principal": pl.Int64,
                "cohort_principal": pl.Int64,
                "rate": pl.Float64,
            }
        )
    grid = (
        sizes.filter(pl.col("_c") <= last)
        .with_columns(pl.int_ranges(0, last - pl.col("_c") + 1).alias("mob"))
        .explode("mob")
    )
    hits = hits.group_by("_c", "mob", "dpd").agg(pl.col("_new").sum())
    out = []
    for n in thresholds:
        curve = (
            grid.join(hits.filter(pl.col("dpd") == n).drop("dpd"), on=["_c", "mob"], how="left")
            .with_columns(pl.col("_new").fill_null(0))
            .sort("_c", "mob")
            .with_columns(
                pl.col("_new").cum_sum().over("_c").alias("ever_principal"),
                pl.lit(n, pl.Int64).alias("dpd"),
            )
        )
        out.append(curve)
    year = pl.col("_c") - 1
    return (
        pl.concat(out)
        .with_columns(
            pl.format("{}-{}", (year // 12), (year % 12 + 1).cast(pl.String).str.zfill(2)).alias(
                "cohort"
            ),
            (pl.col("ever_principal") / pl.col("cohort_principal")).alias("rate"),
            pl.col("mob").cast(pl.Int64),
        )
        .sort("dpd", "_c", "mob")
        .select("cohort", "mob", "dpd", "ever_principal", "cohort_principal", "rate")
    )


def disbursement(loans: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Per month and dimension value: loans disbursed in the calendar month, count and
    principal. `loans` carries the dimension columns (not the tier: a customer's on a date)."""
    frame = loans.with_columns(pl.col("disbursement_date").dt.strftime("%Y-%m").alias("month"))
    frame = frame.join(months.select("month"), on="month")
    aggs = [
        pl.len().cast(pl.Int64).alias("disbursed_count"),
        pl.col("principal").sum().alias("disbursed_amount"),
    ]
    return _per_dimension(frame, ["month"], aggs, [d for d in DIMENSIONS if d not in DATED])


def recovered(flagged: pl.DataFrame, months: pl.DataFrame, cash: pl.DataFrame) -> pl.DataFrame:
    """Principal and interest recovered per month-end and dimension value (loans).

    Principal recovered by a loan in the month = its outstanding principal at the month-end
    before + principal disbursed in between − outstanding at this month-end (never below
    zero); interest and fees = the cash received in between (payments less reversals,
    `cash`: account_id, as_of, cash) less that principal (never below zero). `flagged`
    carries each loan's `loan_principal` and `disbursement_date`."""
    order = month_index(months)
    needed = ["_k", "account_id", "as_of", "outstanding_principal", "loan_principal",
              "disbursement_date", *DIMENSIONS[1:]]  # fmt: skip
    loans = flagged.filter(pl.col("account_type") == "loan").select(needed).join(order, on="as_of")
    before = loans.select(
        "_k", (pl.col("_m") + 1).alias("_m"), pl.col("outstanding_principal").alias("_before")
    )
    previous = order.select((pl.col("_m") + 1).alias("_m"), pl.col("as_of").alias("_prev"))
    # The history's first month-end has no month before it: its recoveries are not known.
    per_account = (
        loans.join(previous, on="_m")
        .join(before, on=["_k", "_m"], how="left")
        .join(cash, on=["account_id", "as_of"], how="left")
        .with_columns(
            (
                pl.col("_before").fill_null(0)
                + pl.when(
                    (pl.col("disbursement_date") > pl.col("_prev"))
                    & (pl.col("disbursement_date") <= pl.col("as_of"))
                )
                .then(pl.col("loan_principal"))
                .otherwise(0)
                - pl.col("outstanding_principal")
            )
            .clip(lower_bound=0)
            .alias("principal_recovered"),
        )
        .with_columns(
            (pl.col("cash").fill_null(0) - pl.col("principal_recovered"))
            .clip(lower_bound=0)
            .alias("interest_recovered")
        )
    )
    aggs = [pl.col("principal_recovered").sum(), pl.col("interest_recovered").sum()]
    return _per_dimension(per_account, ["as_of"], aggs, DIMENSIONS)


def dormant_share(
    cards: pl.DataFrame,
    activity: pl.DataFrame,
    balances: pl.DataFrame,
    months: pl.DataFrame,
    dormant_months: int,
) -> pl.DataFrame:
    """睡眠卡 share per month-end: cards open on the date, open for at least `dormant_months`,
    with no customer-initiated transaction (`activity`: card_id, date) in the `dormant_months`
    months up to the date and a zero balance on it (`balances`: card_id, as_of, balance).
    `cards`: card_id, open_date, close_date."""
    grid = (
        cards.join(months.select("month", "as_of"), how="cross")
        .filter(
            (pl.col("open_date") <= pl.col("as_of"))
            & (pl.col("close_date").is_null() | (pl.col("close_date") > pl.col("as_of")))
        )
        .with_columns(pl.col("as_of").dt.offset_by(f"-{dormant_months}mo").alias("_since"))
    )
    last = grid.sort("as_of").join_asof(
        activity.sort("date").rename({"date": "_last"}),
        left_on="as_of",
        right_on="_last",
        by_left="card_id",
        by_right="card_id",
        strategy="backward",
        check_sortedness=False,
    )
    marked = last.join(balances, on=["card_id", "as_of"], how="left").with_columns(
        (
            (pl.col("open_date") <= pl.col("_since"))
            & (pl.col("_last").is_null() | (pl.col("_last") <= pl.col("_since")))
            & (pl.col("balance").fill_null(0) == 0)
        ).alias("dormant")
    )
    return (
        marked.group_by("month", "as_of")
        .agg(
            pl.len().cast(pl.Int64).alias("cards_open"),
            pl.col("dormant").sum().cast(pl.Int64).alias("dormant_cards"),
        )
        .with_columns((pl.col("dormant_cards") / pl.col("cards_open")).alias("dormant_share"))
        .sort("as_of")
    )


def staff_targets(management: Management, dimension: str) -> list[Target]:
    """The targets `dimension` is judged on, in the policy's order (the first one for a KPI
    when a KPI is named twice)."""
    seen: dict[str, Target] = {}
    for target in management.targets:
        if dimension in target.dimensions and target.kpi not in seen:
            seen[target.kpi] = target
    return list(seen.values())


def staff_ranking(table: pl.DataFrame, management: Management, as_of: object) -> pl.DataFrame:
    """Seed 002 考核: each branch's, officer's, team's and collector's figures on the last
    month-end against the policy's targets that apply to them: per target KPI the figure,
    `<kpi>_target` and `<kpi>_met` (null when the figure is, or the target does not apply);
    `targets_met` of `targets_applicable`; `rank` within the dimension on the first target
    that applies (`rank_kpi`; best first, a missing figure last, ties share the better
    rank). A value the accounts do not have (`(none)`) is nobody and is not ranked."""
    kpis = list(dict.fromkeys(t.kpi for t in management.targets))
    base = table.filter(
        pl.col("dimension").is_in(list(STAFF))
        & (pl.col("as_of") == as_of)
        & (pl.col("value") != NONE)
    )
    parts = []
    for dimension in STAFF:
        rows = base.filter(pl.col("dimension") == dimension)
        targets = {t.kpi: t for t in staff_targets(management, dimension)}
        if not rows.height:
            continue
        columns: list[pl.Expr] = []
        for kpi in kpis:
            target = targets.get(kpi)
            figure = pl.col(kpi) if kpi in rows.columns else pl.lit(None, pl.Float64)
            if target is None:
                columns += [figure.alias(kpi), pl.lit(None, pl.Float64).alias(f"{kpi}_target"),
                            pl.lit(None, pl.Boolean).alias(f"{kpi}_met")]  # fmt: skip
                continue
            met = (
                figure <= target.value if target.direction == "at_most" else figure >= target.value
            )
            columns += [figure.alias(kpi), pl.lit(target.value).alias(f"{kpi}_target"),
                        met.alias(f"{kpi}_met")]  # fmt: skip
        ranked = rows.select("dimension", "value", "accounts", "outstanding_principal", *columns)
        met_columns = [f"{t}_met" for t in targets]
        ranked = ranked.with_columns(
            pl.sum_horizontal(pl.col(c).fill_null(False).cast(pl.Int64) for c in met_columns)
            .cast(pl.Int64)
            .alias("targets_met")
            if met_columns
            else pl.lit(0, pl.Int64).alias("targets_met"),
            pl.lit(len(targets), pl.Int64).alias("targets_applicable"),
        )
        if targets:
            first = next(iter(targets.values()))
            worst = float("inf") if first.direction == "at_most" else float("-inf")
            key = pl.col(first.kpi).fill_null(worst)
            ranked = ranked.with_columns(
                key.rank("min", descending=first.direction == "at_least")
                .cast(pl.Int64)
                .alias("rank"),
                pl.lit(first.kpi).alias("rank_kpi"),
            )
        else:
            ranked = ranked.with_columns(
                pl.lit(None, pl.Int64).alias("rank"), pl.lit(None, pl.String).alias("rank_kpi")
            )
        parts.append(ranked.sort("rank", "value", nulls_last=True))
    if not parts:
        return pl.DataFrame(schema={"dimension": pl.String, "value": pl.String, "rank": pl.Int64})
    return pl.concat(parts, how="diagonal_relaxed")
