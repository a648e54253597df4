"""Synthetic portfolios (合成数据), deterministic by seed, for benchmarks, demos and tests.

    from postloan.synth import generate
    sp = generate(accounts=10_000, seed=42, as_of=date(2026, 6, 30))
    sp.customers, sp.loans, sp.instalments, sp.cards, sp.statements, sp.payments, sp.events
    sp.portfolio  # engine frames (postloan.engine.frames.Portfolio)

`postloan.contract.write_contract_files(sp, folder)` writes them as DATA_CONTRACT files.
Loans and cards carry a `behaviour` column (the ground truth of how the account was made to
pay: `LOAN_NAMES`, `CARD_NAMES`); it is not written to the contract files.
"""

from postloan.synth.behaviour import CARD_BEHAVIOURS, CARD_NAMES, LOAN_BEHAVIOURS, LOAN_NAMES
from postloan.synth.generate import SyntheticPortfolio, generate

__all__ = [
    "CARD_BEHAVIOURS",
    "CARD_NAMES",
    "LOAN_BEHAVIOURS",
    "LOAN_NAMES",
    "SyntheticPortfolio",
    "generate",
]
