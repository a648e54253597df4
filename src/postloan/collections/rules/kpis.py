"""KPI arithmetic (KPI-1), pure: the per-account reduction split, who a customer's figures go
to, the cost rows, the table per level, the cure rate by bucket and the lines a user may see.
Definitions: `collections.kpis` module doc. The store side fetches the frames; amounts are
minor units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

REDUCTION_PARTS = ("cash", "write_off", "restructuring", "transfer", "other")
KPI_COLUMNS = [
    "level", "key", "pool_accounts", "opening_overdue", "cash_recovered", "recovery_rate",
    "reduction", "reduction_rate", "reduction_cash", "reduction_write_off",
    "reduction_restructuring", "reduction_transfer", "reduction_other",
    "recovered_after_writeoff", "cost", "cost_ratio", "promises_kept", "promises_broken",
    "promise_kept_rate", "cases", "contacts", "contacts_per_case",
]  # fmt: skip
STATUS = {"account_id": pl.String, "customer_id": pl.String, "outstanding_principal": pl.Int64,
          "overdue_amount": pl.Int64, "dpd": pl.Int32, "bucket": pl.String,
          "restructured": pl.Boolean}  # fmt: skip
HOLDER_LOG = {"customer_id": pl.String, "kind": pl.String, "from_user_id": pl.Int64,
              "to_user_id": pl.Int64}  # fmt: skip
LEVELS = (("portfolio", None), ("team", "team"), ("collector", "collector"))
LEVEL_ORDER = {"portfolio": 0, "team": 1, "collector": 2}


def rate(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """part ÷ whole; null when the whole is not positive (no denominator, no rate)."""
    return pl.when(whole > 0).then(part / whole).otherwise(None)


def net_cash(payments: pl.DataFrame) -> pl.DataFrame:
    """account_id, cash: the payments (account_id, amount, reversed) less the reversed ones."""
    return (
        payments.filter(~pl.col("reversed"))
        .group_by("account_id")
        .agg(pl.col("amount").sum().alias("cash"))
    )


def reduction_pool(
    before: pl.DataFrame,
    after: pl.DataFrame,
    cash: pl.DataFrame,
    disposals: pl.DataFrame,
) -> pl.DataFrame:
    """The opening pool's accounts (STATUS `before`, already without accounts disposed of
    before the opening) with account_id, customer_id, opening and closing overdue, cash,
    disposal (the kind of a disposal in the period, else null) and restructured (at the
    closing) — `account_reduction`'s input."""
    return (
        before.select("account_id", "customer_id", pl.col("overdue_amount").alias("opening"))
        .join(
            after.select("account_id", pl.col("overdue_amount").alias("closing"), "restructured"),
            on="account_id",
            how="left",
        )
        .join(cash, on="account_id", how="left")
        .join(
            disposals.group_by("account_id").agg(pl.col("kind").first().alias("disposal")),
            on="account_id",
            how="left",
        )
        .with_columns(
            pl.col("closing").fill_null(0),
            pl.col("cash").fill_null(0),
            pl.col("restructured").fill_null(False),
        )
    )


def account_reduction(pool: pl.DataFrame) -> pl.DataFrame:
    """Per pool account: recovered and the reduction split (`collections.kpis` module doc).
    In: account_id, opening (overdue), closing (overdue), cash, disposal (None | write_off |
    asset_disposal), restructured."""
    recovered = pl.min_horizontal(pl.col("cash"), pl.col("opening")).clip(lower_bound=0)
    gone = pl.col("disposal").is_not_null()
    closing = pl.when(gone).then(0).otherwise(pl.col("closing"))
    reduction = pl.col("opening") - closing
    cash_part = pl.min_horizontal(recovered, reduction.clip(lower_bound=0))
    rest = reduction - cash_part
    return pool.with_columns(
        recovered.alias("recovered"),
        cash_part.alias("cash_reduction"),
        pl.when(pl.col("disposal") == "write_off").then(rest).otherwise(0).alias("write_off"),
        pl.when(pl.col("disposal") == "asset_disposal").then(rest).otherwise(0).alias("transfer"),
        pl.when(~gone & pl.col("restructured") & (rest > 0)).then(rest).otherwise(0)
        .alias("restructuring"),
        pl.when(~gone & ~(pl.col("restructured") & (rest > 0))).then(rest).otherwise(0)
        .alias("other"),
    )  # fmt: skip


def last_holders(log: pl.DataFrame) -> pl.DataFrame:
    """customer_id, user_id: who last held each customer, from the reassignment log rows
    (HOLDER_LOG) in the order they happened — a release leaves the customer with the collector
    released (`from_user_id`), any other change with `to_user_id`; customers in the order they
    first appear."""
    holder = pl.when(pl.col("kind") == "release").then("from_user_id").otherwise("to_user_id")
    return (
        log.group_by("customer_id", maintain_order=True)
        .agg(holder.last().alias("user_id"))
        .drop_nulls("user_id")
        .select("customer_id", pl.col("user_id").cast(pl.Int64))
    )


def cost_rows(
    contacts: pl.DataFrame, unit_costs: Mapping[str, int], legal: pl.DataFrame
) -> pl.DataFrame:
    """customer_id, by, cost: each contact (customer_id, by, channel) at its channel's unit cost
    (0 when the policy names none), then each legal cost (customer_id, owner, amount). When
    both inputs carry an `item` column (what the cost is, for the drill-down) it is kept."""
    channel_cost = (
        pl.col("channel")
        .replace_strict(dict(unit_costs), default=0, return_dtype=pl.Int64)
        .fill_null(0)
    )
    item = ["item"] if "item" in contacts.columns and "item" in legal.columns else []
    rows = pl.concat(
        [
            contacts.select("customer_id", "by", channel_cost.alias("cost"), *item),
            legal.select(
                "customer_id", pl.col("owner").alias("by"), pl.col("amount").alias("cost"), *item
            ),
        ],
        how="vertical_relaxed",
    ).cast({"customer_id": pl.String, "by": pl.String, "cost": pl.Int64})
    return rows.cast({"item": pl.String}) if item else rows


def _by(frame: pl.DataFrame, key: str | None, names: pl.DataFrame | None = None) -> pl.DataFrame:
    """Attach the level's key to rows that carry `by` (a username)."""
    if key is None:
        return frame.with_columns(pl.lit("all").alias("key"))
    if "by" in frame.columns and names is not None:
        frame = frame.join(names, left_on="by", right_on="collector", how="left").with_columns(
            pl.col("by").alias("collector")
        )
    return frame.with_columns(pl.col(key).alias("key")).filter(pl.col("key").is_not_null())


def staff_teams(by_customer: pl.DataFrame, case_rows: pl.DataFrame) -> pl.DataFrame:
    """collector, team: the collectors (with their team) the pool's and the cases' holders
    name — how rows carrying only `by` (a username) find their team."""
    teams = by_customer.select("collector", "team").drop_nulls().unique()
    return pl.concat([teams, case_rows.select("collector", "team").drop_nulls().unique()]).unique()


def keyed(frame: pl.DataFrame, level: str, names: pl.DataFrame) -> pl.DataFrame:
    """`frame`'s rows that count at `level` (portfolio | team | collector), each with the
    level's `key` — the attribution `level_table` sums by (`names`: `staff_teams`)."""
    return _by(frame, dict(LEVELS)[level], names)


def level_table(
    level: str, key: str | None, by_customer: pl.DataFrame, later: pl.DataFrame,
    costs: pl.DataFrame, promise_rows: pl.DataFrame, contact_rows: pl.DataFrame,
    case_rows: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """One level's KPI rows (KPI_COLUMNS), one per key (`all`, a team, a collector).

    by_customer: `account_reduction` rows with the holder's collector and team; later:
    recoveries on written-off accounts (amount, collector, team); costs: `cost_rows`;
    promise_rows: status, by; contact_rows: customer_id, by; case_rows: the cases open in the
    period with their holder's collector and team."""
    teams = staff_teams(by_customer, case_rows)
    money = (
        _by(by_customer, key)
        .group_by("key")
        .agg(
            pl.len().alias("pool_accounts"),
            pl.col("opening").sum().alias("opening_overdue"),
            pl.col("recovered").sum().alias("cash_recovered"),
            pl.col("cash_reduction").sum().alias("reduction_cash"),
            *(pl.col(p).sum().alias(f"reduction_{p}") for p in REDUCTION_PARTS[1:]),
        )
    )
    extra = (
        _by(later, key)
        .group_by("key")
        .agg(pl.col("amount").sum().alias("recovered_after_writeoff"))
    )
    cost = _by(costs, key, teams).group_by("key").agg(pl.col("cost").sum().alias("cost"))
    kept = (
        _by(promise_rows, key, teams)
        .group_by("key")
        .agg(
            (pl.col("status") == "kept").sum().alias("promises_kept"),
            (pl.col("status") == "broken").sum().alias("promises_broken"),
        )
    )
    made = _by(contact_rows, key, teams).group_by("key").agg(pl.len().alias("contacts"))
    open_cases = _by(case_rows, key).group_by("key").agg(pl.len().alias("cases"))
    keys = pl.concat(
        [f.select("key") for f in (money, extra, cost, kept, made, open_cases)]
    ).unique()
    out = keys
    for part in (money, extra, cost, kept, made, open_cases):
        out = out.join(part, on="key", how="left")
    counts = [c for c in out.columns if c != "key"]
    out = out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
    reduction = pl.sum_horizontal(f"reduction_{p}" for p in REDUCTION_PARTS)
    recovered = pl.col("cash_recovered") + pl.col("recovered_after_writeoff")
    decided = pl.col("promises_kept") + pl.col("promises_broken")
    return (
        out.with_columns(
            pl.lit(level).alias("level"),
            rate(pl.col("cash_recovered"), pl.col("opening_overdue")).alias("recovery_rate"),
            reduction.alias("reduction"),
            rate(reduction, pl.col("opening_overdue")).alias("reduction_rate"),
            rate(pl.col("cost"), recovered).alias("cost_ratio"),
            rate(pl.col("promises_kept"), decided).alias("promise_kept_rate"),
            rate(pl.col("contacts"), pl.col("cases")).alias("contacts_per_case"),
        )
        .select("level", "key", *KPI_COLUMNS[2:])
        .sort("key")
    )


def kpi_table(
    by_customer: pl.DataFrame, later: pl.DataFrame, costs: pl.DataFrame,
    promise_rows: pl.DataFrame, contact_rows: pl.DataFrame, case_rows: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """The portfolio, team and collector lines (`level_table` each), in that order."""
    return pl.concat(
        [
            level_table(level, key, by_customer, later, costs, promise_rows, contact_rows,
                        case_rows)
            for level, key in LEVELS
        ],
        how="vertical_relaxed",
    )  # fmt: skip


def cure_accounts(
    before: pl.DataFrame, after: pl.DataFrame, overdue_buckets: Sequence[str],
    disposals: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """The opening accounts (STATUS `before`) of the overdue buckets, each with `cured`:
    current at the closing (`after`) and not disposed of (`disposals`: account_id)."""
    current = after.filter(pl.col("dpd") == 0).select("account_id")
    cured = current.join(disposals.select("account_id"), on="account_id", how="anti")
    return before.filter(pl.col("bucket").is_in(list(overdue_buckets))).with_columns(
        pl.col("account_id").is_in(cured["account_id"].implode()).alias("cured")
    )


def cure_by_bucket(
    before: pl.DataFrame, after: pl.DataFrame, overdue_buckets: Sequence[str],
    disposals: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """bucket, accounts, opening_principal, cured_principal, cure_rate for each overdue bucket
    (in the order given): the opening principal of the bucket's accounts (`cure_accounts`)
    current at the closing and not disposed of."""
    opening = cure_accounts(before, after, overdue_buckets, disposals)
    totals = opening.group_by("bucket").agg(
        pl.len().alias("accounts"),
        pl.col("outstanding_principal").sum().alias("opening_principal"),
        pl.col("outstanding_principal").filter(pl.col("cured")).sum().alias("cured_principal"),
    )
    return (
        pl.DataFrame({"bucket": list(overdue_buckets)})
        .join(totals, on="bucket", how="left", maintain_order="left")
        .with_columns(
            pl.col(c).fill_null(0) for c in ("accounts", "opening_principal", "cured_principal")
        )
        .with_columns(
            rate(pl.col("cured_principal"), pl.col("opening_principal")).alias("cure_rate")
        )
    )


def visible_lines(
    rows: pl.DataFrame,
    scope: str | None,
    username: str,
    branch_people: Sequence[tuple[str, str | None]] = (),
) -> pl.DataFrame:
    """The KPI lines a user may see, portfolio then teams then collectors: scope `all` every
    line, `branch` the collectors and teams of `branch_people` (username, team), `assigned`
    their own collector line, None nothing."""
    if scope == "assigned":
        rows = rows.filter((pl.col("level") == "collector") & (pl.col("key") == username))
    elif scope == "branch":
        names = [name for name, _ in branch_people]
        teams = [team for _, team in branch_people if team]
        rows = rows.filter(
            ((pl.col("level") == "collector") & pl.col("key").is_in(names))
            | ((pl.col("level") == "team") & pl.col("key").is_in(teams))
        )
    elif scope is None:
        rows = rows.clear()
    return (
        rows.with_columns(
            pl.col("level").replace_strict(LEVEL_ORDER, return_dtype=pl.Int64).alias("_rank")
        )
        .sort("_rank", "key")
        .drop("_rank")
    )
