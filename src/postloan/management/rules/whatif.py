"""The policy what-if's arithmetic (issue 16 item 6), pure: the portfolio's figures from an
account-status frame of many dates (classes, buckets, NPL and DPD30+ ratios — the summary's
definitions, `reports.summary`, one group-by over every date), and the side-by-side of a
figure under the policy in force and a candidate.

Side by side: the two frames are joined on the figure's keys (a key on one side only counts as
zero on the other — a bucket the candidate drops, a signal it adds); each value column `v`
becomes `v_in_force`, `v_candidate` and `v_diff` (candidate − in force). Rows keep the in-force
frame's order, the candidate's own keys after them.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

RISK_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
NON_PERFORMING = ("substandard", "doubtful", "loss")
SUFFIXES = ("in_force", "candidate", "diff")


def by_class(status: pl.DataFrame) -> pl.DataFrame:
    """as_of, risk_class, accounts, outstanding_principal — every class on every date."""
    grid = (
        status.select("as_of")
        .unique()
        .join(pl.DataFrame({"risk_class": list(RISK_CLASSES)}), how="cross")
    )
    found = status.group_by("as_of", "risk_class").agg(
        pl.len().cast(pl.Int64).alias("accounts"), pl.col("outstanding_principal").sum()
    )
    return (
        grid.join(found, on=["as_of", "risk_class"], how="left")
        .with_columns(pl.col("accounts", "outstanding_principal").fill_null(0))
        .sort("as_of", pl.col("risk_class").replace_strict(list(RISK_CLASSES), range(5)))
    )


def by_bucket(status: pl.DataFrame, buckets: Sequence[str]) -> pl.DataFrame:
    """as_of, bucket, accounts, outstanding_principal, overdue_amount — every bucket of the
    policy on every date (in the policy's order)."""
    grid = (
        status.select("as_of")
        .unique()
        .join(pl.DataFrame({"bucket": list(buckets)}, schema={"bucket": pl.String}), how="cross")
    )
    found = status.group_by("as_of", "bucket").agg(
        pl.len().cast(pl.Int64).alias("accounts"),
        pl.col("outstanding_principal").sum(),
        pl.col("overdue_amount").sum(),
    )
    order = {name: i for i, name in enumerate(buckets)}
    return (
        grid.join(found, on=["as_of", "bucket"], how="left")
        .with_columns(pl.col("accounts", "outstanding_principal", "overdue_amount").fill_null(0))
        .sort("as_of", pl.col("bucket").replace_strict(order, default=len(order)))
    )


def ratios(status: pl.DataFrame) -> pl.DataFrame:
    """as_of, accounts, outstanding_principal, npl_principal, dpd30_principal, npl_ratio,
    dpd30_ratio (0 when nothing is outstanding, as the summary says)."""
    principal = pl.col("outstanding_principal")
    totals = status.group_by("as_of").agg(
        pl.len().cast(pl.Int64).alias("accounts"),
        principal.sum(),
        principal.filter(pl.col("risk_class").is_in(NON_PERFORMING)).sum().alias("npl_principal"),
        principal.filter(pl.col("dpd") >= 30).sum().alias("dpd30_principal"),
    )
    whole = pl.col("outstanding_principal")
    return totals.with_columns(
        pl.when(whole > 0).then(pl.col("npl_principal") / whole).otherwise(0.0).alias("npl_ratio"),
        pl.when(whole > 0).then(pl.col("dpd30_principal") / whole).otherwise(0.0)
        .alias("dpd30_ratio"),
    ).sort("as_of")  # fmt: skip


def side_by_side(
    keys: Sequence[str], in_force: pl.DataFrame, candidate: pl.DataFrame
) -> pl.DataFrame:
    """The keys, then for each value column v: v_in_force, v_candidate, v_diff (module doc)."""
    keys = list(keys)
    values = [c for c in in_force.columns if c not in keys]
    values += [c for c in candidate.columns if c not in keys and c not in values]
    left = _with_values(in_force, keys, values).rename({v: f"{v}_in_force" for v in values})
    right = _with_values(candidate, keys, values).rename({v: f"{v}_candidate" for v in values})
    if not keys:
        joined = pl.concat([left, right], how="horizontal")
    else:
        joined = left.join(
            right, on=keys, how="full", coalesce=True, nulls_equal=True,
            maintain_order="left_right",
        )  # fmt: skip
    filled = joined.with_columns(
        pl.col(f"{v}_{side}").fill_null(0) for v in values for side in SUFFIXES[:2]
    )
    columns = [pl.col(k) for k in keys]
    for v in values:
        columns += [
            pl.col(f"{v}_in_force"),
            pl.col(f"{v}_candidate"),
            (pl.col(f"{v}_candidate") - pl.col(f"{v}_in_force")).alias(f"{v}_diff"),
        ]
    return filled.select(columns)


def _with_values(frame: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    missing = [v for v in values if v not in frame.columns]
    return frame.with_columns(pl.lit(0, pl.Int64).alias(v) for v in missing).select(*keys, *values)


def long_rows(area: str, figure: str, keys: Sequence[str], frame: pl.DataFrame) -> pl.DataFrame:
    """A side-by-side frame as rows of (area, figure, key, measure, in_force, candidate, diff),
    `key` "name=value; …" — every figure in one CSV."""
    keys = list(keys)
    measures = [c[: -len("_in_force")] for c in frame.columns if c.endswith("_in_force")]
    key_text = (
        pl.concat_str(
            [pl.concat_str(pl.lit(f"{k}="), pl.col(k).cast(pl.String).fill_null("")) for k in keys],
            separator="; ",
        )
        if keys
        else pl.lit("")
    )
    parts = [
        frame.select(
            pl.lit(area).alias("area"),
            pl.lit(figure).alias("figure"),
            key_text.alias("key"),
            pl.lit(m).alias("measure"),
            *(pl.col(f"{m}_{s}").cast(pl.Float64).alias(s) for s in SUFFIXES),
        )
        for m in measures
    ]
    schema = {"area": pl.String, "figure": pl.String, "key": pl.String, "measure": pl.String,
              "in_force": pl.Float64, "candidate": pl.Float64, "diff": pl.Float64}  # fmt: skip
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)
