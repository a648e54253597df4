"""Customers: identity, work, income and wealth, bureau score, branch, marketing consent.

Each customer carries a latent risk factor `risk` (standard normal, higher = riskier) that is
not written anywhere: it lowers the bureau score and income and raises the chance that the
customer's accounts behave badly, so scores and models trained on the data find real signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from postloan.synth.identity import addresses, mobiles, names, prc_ids
from postloan.synth.tables import AREAS, BRANCHES, INDUSTRIES
from postloan.synth.util import FloatArray, IntArray, choice, days_to_date, ids, lookup

CUSTOMER_ID_WIDTH = 8


@dataclass(frozen=True)
class Customers:
    frame: pl.DataFrame
    risk: FloatArray  # latent risk factor per customer
    branch: IntArray  # index into BRANCHES
    income: IntArray  # monthly income, cents


def make_customers(rng: np.random.Generator, n: int, as_of: int) -> Customers:
    risk = rng.standard_normal(n)
    male = rng.random(n) < 0.52
    age = np.floor(rng.triangular(20, 33, 66, n)).astype(np.int64).clip(20, 65)
    # A birth date that makes the customer exactly `age` on as_of (one day of margin each side).
    birth = as_of - np.floor((age + 0.003 + rng.random(n) * 0.994) * 365.2425).astype(np.int64)
    area = rng.integers(0, len(AREAS), n)
    branch_of_area = np.array([BRANCHES.index(b) for *_, b in AREAS])
    industry = choice(rng, [w for _, _, w, _, _ in INDUSTRIES], n)
    occupation_lists = [occ for *_, occ in INDUSTRIES]
    occ_pick = rng.integers(0, 1_000, n)
    flat_occupations: list[str] = []
    occ_offset = np.zeros(len(INDUSTRIES), dtype=np.int64)
    occ_count = np.zeros(len(INDUSTRIES), dtype=np.int64)
    for i, occ in enumerate(occupation_lists):
        occ_offset[i] = len(flat_occupations)
        occ_count[i] = len(occ)
        flat_occupations.extend(occ)
    occupation = occ_offset[industry] + occ_pick % occ_count[industry]

    median = np.array([m for _, _, _, m, _ in INDUSTRIES], dtype=np.float64)[industry]
    age_factor = 1.0 + 0.25 * np.exp(-(((age - 45) / 12.0) ** 2))
    income_yuan = median * age_factor * np.exp(0.55 * rng.standard_normal(n) - 0.12 * risk)
    income = (np.round(income_yuan.clip(1_500, 300_000) / 10) * 1_000).astype(np.int64)
    assets_multiple = np.exp(rng.normal(np.log(30), 1.0, n)) * (age / 35.0)
    assets = (np.round(income * assets_multiple / 10_000) * 10_000).astype(np.int64)
    leverage = rng.beta(2, 5, n) * np.exp(0.35 * risk)
    liabilities = (np.round(assets * leverage.clip(0, 3) / 10_000) * 10_000).astype(np.int64)
    score = np.round(690 - 65 * risk + rng.normal(0, 35, n)).clip(350, 950).astype(np.int64)

    since = as_of - rng.integers(30, 6 * 365, n)
    consent = rng.random(n) < 0.62
    consent_day = since + np.floor(rng.random(n) * (as_of - since)).astype(np.int64)

    frame = pl.DataFrame(
        {
            "customer_id": ids("CU", n, CUSTOMER_ID_WIDTH),
            "name": names(rng, male),
            "id_number": prc_ids(rng, area, birth, male),
            "id_type": pl.repeat("prc_id", n, eager=True, dtype=pl.String),
            "phone": mobiles(rng, n),
            "address": addresses(rng, area),
            "occupation": lookup(flat_occupations, occupation, "occupation"),
            "industry": lookup([name for _, name, *_ in INDUSTRIES], industry, "industry"),
            "monthly_income": pl.Series(income, dtype=pl.Int64),
            "total_assets": pl.Series(assets, dtype=pl.Int64),
            "total_liabilities": pl.Series(liabilities, dtype=pl.Int64),
            "bureau_score": pl.Series(score, dtype=pl.Int32),
            "branch_id": lookup(BRANCHES, branch_of_area[area], "branch_id"),
            "consent_marketing": pl.Series(consent, dtype=pl.Boolean),
            "consent_date": days_to_date(np.where(consent, consent_day, 0), "consent_date"),
        }
    ).with_columns(
        pl.when(pl.col("consent_marketing")).then(pl.col("consent_date")).alias("consent_date")
    )
    return Customers(frame=frame, risk=risk, branch=branch_of_area[area], income=income)
