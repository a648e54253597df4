"""Loss given default from the recovery history, expected loss and the risk classification
matrix (RK-2), over whole frames.

- **LGD per account type** (`lgd_by_type`): an account defaults on the first snapshot its DPD
  reaches `bad_min_dpd`; its exposure at default (EAD) is the outstanding principal plus the
  overdue interest then; recoveries are its payments (net of reversals) after that date within
  `lgd_workout_months`. LGD = 1 − Σ min(recovered, EAD) ÷ Σ EAD over the type's defaults (an
  EAD-weighted loss rate). Workouts still under way count what was recovered so far — the LGD
  is conservative until they end. A type without defaults takes `lgd_fallback_pct`.
- **Expected loss** (`expected_loss`): EL = PD × LGD × EAD per customer and date, with EAD the
  customer's outstanding principal plus overdue interest and LGD the EAD-weighted mix of its
  account types' LGDs; amounts in minor units (分), rounded half up.
- **Classification** (`matrix_class`): the policy's matrix gives a class per PD band × exposure
  band; the customer's class is the worse of it and the worst five-category class of its
  accounts on the date (the floors from DPD and restructuring) — the matrix only ever adds
  caution, it never contradicts a floor.
"""

from __future__ import annotations

import polars as pl

from postloan.policy.risk import Models

CLASS_ORDER = ("normal", "special_mention", "substandard", "doubtful", "loss")

DEFAULTS = {"account_id": pl.String, "account_type": pl.String, "defaulted_on": pl.Date,
            "ead": pl.Int64}  # fmt: skip
RECOVERIES = {"account_id": pl.String, "value_date": pl.Date, "amount": pl.Int64}
EXPOSURES = {"as_of": pl.Date, "customer_id": pl.String, "account_type": pl.String,
             "ead": pl.Int64, "floor_class": pl.String}  # fmt: skip


def lgd_by_type(
    defaults: pl.DataFrame, recoveries: pl.DataFrame, cfg: Models,
    account_types: tuple[str, ...] = ("loan", "card"),
) -> pl.DataFrame:  # fmt: skip
    """(account_type, defaults, ead, recovered, lgd) for every account type."""
    windowed = (
        defaults.join(recoveries, on="account_id", how="left")
        .filter(pl.col("value_date").is_null()
                | ((pl.col("value_date") > pl.col("defaulted_on"))
                   & (pl.col("value_date") <= pl.col("defaulted_on")
                      .dt.offset_by(f"{cfg.lgd_workout_months}mo"))))
        .group_by("account_id", "account_type", "ead")
        .agg(pl.col("amount").fill_null(0).sum().alias("recovered"))
        .with_columns(pl.min_horizontal(pl.max_horizontal("recovered", pl.lit(0)), "ead")
                      .alias("recovered"))
        .filter(pl.col("ead") > 0)
        .group_by("account_type")
        .agg(pl.len().cast(pl.Int64).alias("defaults"), pl.col("ead").sum(),
             pl.col("recovered").sum())
    )  # fmt: skip
    every = pl.DataFrame({"account_type": list(account_types)})
    return (
        every.join(windowed, on="account_type", how="full", coalesce=True)
        .with_columns(pl.col("defaults", "ead", "recovered").fill_null(0))
        .with_columns(
            pl.when(pl.col("ead") > 0)
            .then(1 - pl.col("recovered") / pl.col("ead"))
            .otherwise(cfg.lgd_fallback_pct / 100)
            .alias("lgd")
        )
        .sort("account_type")
    )


def _band(value: pl.Expr, edges: list[int]) -> pl.Expr:
    """0 below the first edge, 1 from it below the second, …"""
    band = pl.lit(0, pl.Int64)
    for i, edge in enumerate(edges):
        band = pl.when(value >= edge).then(pl.lit(i + 1, pl.Int64)).otherwise(band)
    return band


def matrix_class(pd_band: pl.Expr, exposure_band: pl.Expr, cfg: Models) -> pl.Expr:
    """The matrix's class index (into CLASS_ORDER) for the bands."""
    cls = pl.lit(0, pl.Int64)
    for i, row in enumerate(cfg.matrix):
        for j, name in enumerate(row):
            cls = (
                pl.when((pd_band == i) & (exposure_band == j))
                .then(pl.lit(CLASS_ORDER.index(name), pl.Int64))
                .otherwise(cls)
            )
    return cls


def expected_loss(scores: pl.DataFrame, exposures: pl.DataFrame, lgd: pl.DataFrame,
                  cfg: Models) -> pl.DataFrame:  # fmt: skip
    """`scores` (as_of, customer_id, pd, …) with ead, lgd, el, pd_band, exposure_band,
    matrix_class and risk_class (the worse of the matrix's and the floor's)."""
    rank = {name: i for i, name in enumerate(CLASS_ORDER)}
    per_customer = (
        exposures.join(lgd.select("account_type", "lgd"), on="account_type", how="left")
        .with_columns(pl.col("floor_class").replace_strict(rank, return_dtype=pl.Int64)
                      .alias("_floor"))
        .group_by("as_of", "customer_id")
        .agg(pl.col("ead").sum(), (pl.col("ead") * pl.col("lgd")).sum().alias("_loss"),
             pl.col("_floor").max())
    )  # fmt: skip
    ead = pl.col("ead")
    out = scores.join(per_customer, on=["as_of", "customer_id"], how="left").with_columns(
        ead.fill_null(0), pl.col("_floor").fill_null(0),
        pl.when(ead > 0).then(pl.col("_loss") / ead).otherwise(None).alias("lgd"),
    )  # fmt: skip
    # EL in 分: PD × (Σ EAD × LGD), half up.
    el = (pl.col("pd") * pl.col("_loss").fill_null(0) + 0.5).floor().cast(pl.Int64)
    pd_band = _band((pl.col("pd") * 10_000), cfg.pd_band_edges_bp)
    exposure_band = _band(ead / 100, cfg.exposure_band_edges)  # 分 → yuan
    out = out.with_columns(el.alias("el"), pd_band.alias("pd_band"),
                           exposure_band.alias("exposure_band"))  # fmt: skip
    out = out.with_columns(matrix_class(pl.col("pd_band"), pl.col("exposure_band"), cfg)
                           .alias("_matrix"))  # fmt: skip
    names = dict(enumerate(CLASS_ORDER))
    return out.with_columns(
        pl.col("_matrix").replace_strict(names, return_dtype=pl.String).alias("matrix_class"),
        pl.max_horizontal("_matrix", "_floor").replace_strict(names, return_dtype=pl.String)
        .alias("risk_class"),
    ).drop("_loss", "_floor", "_matrix")  # fmt: skip
