"""The override-performance report (issue 13 item 1; PIPL Art. 24's human review of automated
decisions): did officers' assessments see what the score missed?

For each approved assessment (customer, score date D, model grade → officer's grade), the
customers with the *same model grade on the same date* and no approved assessment are its
comparison group. For both groups the bad rate is the share of customers not bad on D who
reach worst DPD ≥ `bad_min_dpd` on a stored date in (D, D + h months]; a date D whose horizon
runs past the last stored date is not judged yet. An assessment that raised the risk (a worse
grade) should show a higher bad rate than its group; one that lowered it, a lower one.

Inputs: `overrides` (customer_id, as_of, model_grade, grade) — approved only; `scores`
(customer_id, as_of, grade, worst_dpd) — every stored score; `grade_order` — the policy's
grades, least risky first. Output: one row per (model grade, direction, group)."""

from __future__ import annotations

import polars as pl

OVERRIDES = {"customer_id": pl.String, "as_of": pl.Date, "model_grade": pl.String,
             "grade": pl.String}  # fmt: skip
SCORES = {"customer_id": pl.String, "as_of": pl.Date, "grade": pl.String, "worst_dpd": pl.Int64}
REPORT = {"model_grade": pl.String, "direction": pl.String, "group": pl.String,
          "customers": pl.Int64, "bad": pl.Int64, "bad_rate": pl.Float64}  # fmt: skip


def override_performance(
    overrides: pl.DataFrame, scores: pl.DataFrame, grade_order: list[str], bad_min_dpd: int,
    horizon_months: int,
) -> pl.DataFrame:  # fmt: skip
    if overrides.is_empty() or scores.is_empty():
        return pl.DataFrame(schema=REPORT)
    last = scores["as_of"].max()
    rank = {g: i for i, g in enumerate(grade_order)}
    ov = overrides.with_columns(
        direction=pl.when(pl.col("grade").replace_strict(rank, default=-1)
                          > pl.col("model_grade").replace_strict(rank, default=-1))
        .then(pl.lit("riskier")).otherwise(pl.lit("safer")),
        until=pl.col("as_of").dt.offset_by(f"{horizon_months}mo"),
    ).filter(pl.col("until") <= last)  # fmt: skip
    # The comparison group: same model grade, same date, no approved assessment.
    keys = ov.select("as_of", "model_grade", "direction", "until").unique()
    peers = scores.join(keys, left_on=["as_of", "grade"], right_on=["as_of", "model_grade"])
    peers = peers.join(ov.select("customer_id", "as_of"), on=["customer_id", "as_of"], how="anti")
    members = pl.concat([
        ov.select("customer_id", "as_of", "model_grade", "direction", "until",
                  group=pl.lit("overridden")),
        peers.select("customer_id", "as_of", model_grade=pl.col("grade"), direction="direction",
                     until="until", group=pl.lit("comparison")),
    ])  # fmt: skip
    status = scores.select("customer_id", on=pl.col("as_of"), dpd=pl.col("worst_dpd"))
    start = members.join(status, left_on=["customer_id", "as_of"], right_on=["customer_id", "on"])
    judged = start.filter(pl.col("dpd") < bad_min_dpd).drop("dpd")
    later = judged.join(status, on="customer_id").filter(
        (pl.col("on") > pl.col("as_of")) & (pl.col("on") <= pl.col("until"))
        & (pl.col("dpd") >= bad_min_dpd)
    ).select("customer_id", "as_of", "group").unique()  # fmt: skip
    flagged = judged.join(later.with_columns(bad=pl.lit(1)), on=["customer_id", "as_of", "group"],
                          how="left")  # fmt: skip
    return (
        flagged.group_by("model_grade", "direction", "group")
        .agg(customers=pl.len().cast(pl.Int64), bad=pl.col("bad").fill_null(0).sum().cast(pl.Int64))
        .with_columns(bad_rate=pl.col("bad") / pl.col("customers"))
        .select(list(REPORT)).sort("model_grade", "direction", "group")
    )  # fmt: skip
