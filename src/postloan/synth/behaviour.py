"""Payment behaviours of accounts and how they are assigned.

The share of each behaviour is its base share tilted by the owner's latent risk factor z:
weight = share · exp(beta·z − beta²/2), so riskier customers default and pay late more often
while the portfolio-wide shares stay close to the base shares.
"""

from __future__ import annotations

import numpy as np

from postloan.synth.util import FloatArray, IntArray, choice_rows

# Loans: (name, base share, beta)
LOAN_BEHAVIOURS: tuple[tuple[str, float, float], ...] = (
    ("on_time", 0.54, -0.5),  # pays on the due date or a few days before
    ("occasionally_late", 0.17, 0.1),  # a few instalments 1-20 days late
    ("chronic_late", 0.06, 0.8),  # most instalments 5-45 days late
    ("curing", 0.05, 0.7),  # falls 1-3 instalments behind, then catches up with a lump
    ("defaulting", 0.04, 1.2),  # stops paying; occasional partial payments after
    ("early_payoff", 0.11, -0.3),  # pays off the remaining principal in one lump and leaves
    ("over_payer", 0.03, -0.5),  # on time, often rounds payments up (credit balance)
)
# Cards: (name, base share, beta)
CARD_BEHAVIOURS: tuple[tuple[str, float, float], ...] = (
    ("transactor", 0.36, -0.6),  # pays the statement balance in full
    ("revolver", 0.28, 0.3),  # pays the minimum or a little more, carries a balance
    ("late_payer", 0.10, 0.7),  # revolver who often pays 5-30 days after the due date
    ("defaulter", 0.05, 1.2),  # stops paying, balance grows with interest
    ("dormant", 0.16, 0.0),  # never used: zero statements
    ("closer", 0.05, -0.2),  # transactor who clears the balance and closes the card
)

LOAN_NAMES = tuple(name for name, _, _ in LOAN_BEHAVIOURS)
CARD_NAMES = tuple(name for name, _, _ in CARD_BEHAVIOURS)

ON_TIME, OCCASIONAL, CHRONIC, CURING, DEFAULTING, EARLY_PAYOFF, OVER_PAYER = range(7)
TRANSACTOR, REVOLVER, LATE_PAYER, DEFAULTER, DORMANT, CLOSER = range(6)

# Behaviours whose payments may bounce (be reversed): never the clean payers, so that "on time"
# stays literally true for them.
LOAN_REVERSIBLE = (OCCASIONAL, CHRONIC, CURING, DEFAULTING)
CARD_REVERSIBLE = (REVOLVER, LATE_PAYER, DEFAULTER)


def assign(
    rng: np.random.Generator, table: tuple[tuple[str, float, float], ...], risk: FloatArray
) -> IntArray:
    """One behaviour index per account, given the owner's latent risk."""
    share = np.array([s for _, s, _ in table])
    beta = np.array([b for _, _, b in table])
    weights = share[None, :] * np.exp(risk[:, None] * beta[None, :] - beta[None, :] ** 2 / 2)
    return choice_rows(rng, weights)
