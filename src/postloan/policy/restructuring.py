"""Repayment agreements (OD-4) and the classification of restructured loans (DOMAIN.md).

The defaults and the reasoning behind each one are in ``default_policy.toml``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from postloan.policy.base import PositiveCount, Section
from postloan.policy.errors import rule_error

# The five classes, best first (the order `worse_class` and the rules below rely on).
CLASS_ORDER = ("normal", "special_mention", "substandard", "doubtful", "loss")
Class = Literal["normal", "special_mention", "substandard", "doubtful", "loss"]


class Restructuring(Section):
    """Limits of a repayment agreement and the observation period of a restructured loan."""

    max_instalments: PositiveCount = Field(
        description="An instalment agreement re-spreads what is owed over at most this many "
        "monthly instalments."
    )
    max_extension_months: PositiveCount = Field(
        description="An extension moves the remaining instalments later by at most this many "
        "months."
    )
    max_days_to_first_due: PositiveCount = Field(
        description="The first agreed due date lies at most this many days after the latest "
        "stored status date."
    )
    observation_min_periods: PositiveCount = Field(
        description="The observation period covers at least this many consecutive agreed "
        "repayment periods..."
    )
    observation_min_months: PositiveCount = Field(
        description="...and at least this many months from the first agreed repayment date."
    )
    missed_payment_min_dpd: PositiveCount = Field(
        description="During observation a payment counts as missed once the loan is this many "
        "days past due."
    )
    class_in_observation: Class = Field(
        description="During observation the class is at least this (or the class at "
        "restructuring, when worse)."
    )
    class_after_missed_payment: Class = Field(
        description="After a missed payment or a second restructuring within observation the "
        "class is at least this."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Restructuring:
        if CLASS_ORDER.index(self.class_after_missed_payment) < CLASS_ORDER.index(
            self.class_in_observation
        ):
            raise rule_error(
                [
                    (
                        ("class_after_missed_payment",),
                        f"must not be better than class_in_observation "
                        f"({self.class_in_observation})",
                    )
                ]
            )
        return self


def worse_class(a: str, b: str) -> str:
    """The worse (later in CLASS_ORDER) of two classes."""
    return a if CLASS_ORDER.index(a) >= CLASS_ORDER.index(b) else b
