"""Portfolios generated once per test session (generation is deterministic)."""

from __future__ import annotations

from datetime import date

import pytest

from postloan.synth import SyntheticPortfolio, generate

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="session")
def sp10k() -> SyntheticPortfolio:
    return generate(accounts=10_000, seed=42, as_of=AS_OF)


@pytest.fixture(scope="session")
def sp_small() -> SyntheticPortfolio:
    return generate(accounts=3_000, seed=5, as_of=AS_OF)
