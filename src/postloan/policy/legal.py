"""Legal action (OD-8) and its evidence: which contacts count as failed collection, what must
be on file before a legal matter may enter each stage, the cost categories.

The DPD and failed-contact thresholds themselves are `collections.legal_min_dpd` and
`collections.legal_min_failed_contacts`. The defaults and the reasoning behind each setting
are in ``default_policy.toml``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, model_validator

from postloan.policy.base import PositiveCount, Section
from postloan.policy.errors import Loc, rule_error

# The contact outcomes of `postloan.collections.contacts.OUTCOMES` (a test keeps them equal;
# the policy cannot import the collections package, which imports the policy).
ContactOutcome = Literal[
    "connected", "promise_to_pay", "refused_to_pay", "dispute",
    "no_answer", "busy", "wrong_number", "left_message",
    "sent", "delivery_failed",
    "met", "not_home",
]  # fmt: skip

# The stages of a legal matter a case can be in before it is closed (`collections.legal_matters`).
LegalStage = Literal["lawyer_letter", "lawsuit", "property_preservation", "enforcement"]
LEGAL_STAGES: tuple[LegalStage, ...] = (
    "lawyer_letter",
    "lawsuit",
    "property_preservation",
    "enforcement",
)

_WORD = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def _word(value: str) -> str:
    if not _WORD.match(value):
        raise ValueError("a name is 1-48 lower-case letters, digits or '_', starting with a letter")
    return value


Word = Annotated[StrictStr, AfterValidator(_word)]


class Legal(Section):
    """Legal action (OD-8): failed contacts, the evidence checklist per stage, cost categories."""

    failed_contact_outcomes: list[ContactOutcome] = Field(
        description="Contact outcomes that count as a failed collection contact (OD-8)."
    )
    evidence: dict[LegalStage, list[Word]] = Field(
        description="Evidence items that must be on file before a matter may enter each stage."
    )
    contact_log_evidence: list[Word] = Field(
        description="Evidence items the contact log itself provides (demands for payment)."
    )
    cost_categories: list[Word] = Field(description="Categories a legal cost is booked under.")
    limitation_years: PositiveCount = Field(
        description="Limitation period, counted from the last demand (Civil Code Art. 188/195)."
    )

    @model_validator(mode="after")
    def _complete(self) -> Legal:
        problems: list[tuple[Loc, str]] = []
        if not self.failed_contact_outcomes:
            problems.append((("failed_contact_outcomes",), "at least one outcome is needed"))
        for stage in LEGAL_STAGES:
            if stage not in self.evidence:
                problems.append((("evidence", stage), "missing: every stage needs a list"))
        for name in ("failed_contact_outcomes", "cost_categories", "contact_log_evidence"):
            values: list[str] = list(getattr(self, name))
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                problems.append(((name,), f"listed twice: {', '.join(twice)}"))
        if not self.cost_categories:
            problems.append((("cost_categories",), "at least one category is needed"))
        if problems:
            raise rule_error(problems)
        return self

    def items_for(self, stage: str) -> list[str]:
        """The evidence needed to enter `stage` (none for `closed`)."""
        return list(self.evidence.get(stage, []))  # type: ignore[call-overload]

    @property
    def all_items(self) -> list[str]:
        """Every evidence item of every stage, in stage order, once."""
        return list(dict.fromkeys(i for s in LEGAL_STAGES for i in self.items_for(s)))
