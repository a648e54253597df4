"""Synthetic benchmark portfolios, generated once per (size, seed) and cached as Parquet."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from postloan.engine.frames import Portfolio
from postloan.synth import generate

OUT = Path(__file__).parent / "out"
AS_OF = date(2026, 6, 30)
SEED = 20260630
TABLES = ("loans", "instalments", "cards", "statements", "payments")


def folder(accounts: int) -> Path:
    return OUT / f"portfolio-{accounts}-{SEED}"


def ensure(accounts: int) -> Path:
    """Generate and cache the portfolio of `accounts` accounts (deterministic by seed)."""
    path = folder(accounts)
    if all((path / f"{t}.parquet").exists() for t in TABLES):
        return path
    path.mkdir(parents=True, exist_ok=True)
    portfolio = generate(accounts=accounts, seed=SEED, as_of=AS_OF).portfolio
    for table in TABLES:
        getattr(portfolio, table).write_parquet(path / f"{table}.parquet")
    return path


def load(path: Path) -> Portfolio:
    return Portfolio(**{t: pl.read_parquet(path / f"{t}.parquet") for t in TABLES})
