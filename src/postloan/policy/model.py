"""The typed policy: every number the SPEC leaves open (`[X]`) lives here, never in code.

The packaged ``default_policy.toml`` is the single source of default values: the models below
have no defaults of their own (except optional caps), so a policy file is always complete and
what a risk officer reads in it is exactly what the system uses.

Checks that span several settings (bucket contiguity, floor order, contact frequency against
the caps of every jurisdiction) raise `errors.rule_error` so that the message names the
parameter by its dotted path.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictStr,
    field_validator,
    model_validator,
)

from postloan.policy.base import Count, PositiveCount, Section
from postloan.policy.case_allocation import CaseAllocation
from postloan.policy.checks import (
    bucket_problems,
    collection_problems,
    contact_capacity_problems,
    floor_problems,
)
from postloan.policy.churn import Churn
from postloan.policy.errors import rule_error
from postloan.policy.jurisdiction import JurisdictionCode, JurisdictionRules
from postloan.policy.kpi import Kpi
from postloan.policy.legal import Legal
from postloan.policy.management import Management
from postloan.policy.rating import Rating
from postloan.policy.relationship import Relationship
from postloan.policy.restructuring import Restructuring
from postloan.policy.risk import Risk
from postloan.policy.security import Security
from postloan.policy.strategies import Strategies
from postloan.policy.tiering import Tiering

_BUCKET_NAME = re.compile(r"^[A-Za-z0-9_+\-]{1,32}$")


def _bucket_name(value: str) -> str:
    if not _BUCKET_NAME.match(value):
        raise ValueError("a bucket name is 1-32 letters, digits, '_', '+' or '-'")
    return value


BucketName = Annotated[StrictStr, AfterValidator(_bucket_name)]
RiskClass = Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
AccountType = Literal["loan", "card"]
CollectionStage = Literal["none", "reminder", "negotiation", "intensified", "legal_review"]


class DpdBucket(Section):
    """A days-past-due band (账龄分组): accounts with min_dpd <= dpd <= max_dpd."""

    name: BucketName = Field(description="Bucket label used in reports and rules, e.g. 'M1'.")
    min_dpd: Count = Field(description="Smallest DPD in the bucket (inclusive).")
    max_dpd: Count | None = Field(
        default=None,
        description="Largest DPD in the bucket (inclusive); omitted = open-ended (last only).",
    )


class ClassFloors(Section):
    """DPD floors of the five-category classification: a class applies when dpd > its floor."""

    special_mention: Count = Field(description="关注 when dpd > this (and past the grace days).")
    substandard: Count = Field(description="次级 (non-performing) when dpd > this.")
    doubtful: Count = Field(description="可疑 when dpd > this.")
    loss: Count = Field(description="损失 when dpd > this.")

    @model_validator(mode="after")
    def _strictly_increasing(self) -> ClassFloors:
        problems = floor_problems(self)
        if problems:
            raise rule_error(problems)
        return self


class Classification(Section):
    """Five-category (五级分类) floors by product, and the technical-overdue exemption."""

    technical_grace_days: Count = Field(
        description="DPD up to this many days counts as technical overdue and stays 正常."
    )
    loan: ClassFloors = Field(description="Floors for instalment loans (2023 risk rules).")
    card: ClassFloors = Field(description="Floors for credit cards (2011 card rules, Art. 92).")

    def floors_for(self, account_type: str) -> ClassFloors:
        """The floors for ``"loan"`` or ``"card"``."""
        if account_type == "loan":
            return self.loan
        if account_type == "card":
            return self.card
        raise ValueError(f"unknown account type {account_type!r}; expected 'loan' or 'card'")


class Allocation(Section):
    """How a repayment is split over what is due."""

    order: Literal["interest_first", "principal_first"] = Field(
        description="Within one instalment, which component a payment covers first."
    )
    materiality_threshold: Decimal = Field(
        description="An amount still due at or below this (currency units) does not count as "
        'overdue; written as a string with at most 2 decimals, e.g. "0.00".'
    )

    @field_validator("materiality_threshold", mode="before")
    @classmethod
    def _exact_money(cls, value: Any) -> Decimal:
        # A float would carry binary rounding into money; require text (or a whole number).
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError('must be an amount written as text, e.g. "0.00"')
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError('must be an amount such as "0.00"') from None
        if not amount.is_finite() or amount < 0:
            raise ValueError("must be a finite amount >= 0")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError("must have at most 2 decimals")
        # Normalised so "0", "0.0" and "0.00" are the same policy (and the same version).
        return amount.quantize(Decimal("0.01"))


class Calendar(Section):
    """Working-day overrides on top of the published PRC holiday calendar (chinese-calendar).

    A year the library does not cover is refused (fail closed) unless listed in `years`: then
    its days are weekdays except `holidays`, plus `working_days` (make-up days, 调休). Dates in
    `holidays` / `working_days` also override a covered year (a local closure, say)."""

    years: list[Annotated[int, Field(ge=1900, le=2200)]] = Field(
        description="Years the two lists describe completely (not yet in chinese-calendar)."
    )
    holidays: list[date] = Field(description="Days off that would otherwise be working days.")
    working_days: list[date] = Field(description="Make-up working days (调休), e.g. a Sunday.")

    @model_validator(mode="after")
    def _disjoint(self) -> Calendar:
        both = sorted(set(self.holidays) & set(self.working_days))
        if both:
            raise rule_error(
                [(("working_days",), f"{both[0].isoformat()} is also listed in holidays")]
            )
        return self


class Reminders(Section):
    """Early reminder (OD-3): sent within a window of working days after going overdue."""

    first_working_day: Count = Field(description="Earliest working day after the due date.")
    last_working_day: Count = Field(description="Latest working day after the due date.")
    pay_within_days: PositiveCount = Field(
        description="The repayment deadline stated in the reminder: days after its window ends."
    )
    lender_name: StrictStr = Field(description="Who the reminder comes from (SMS signature).")
    lender_contact: StrictStr = Field(description="The lender's contact stated in the reminder.")

    @model_validator(mode="after")
    def _ordered(self) -> Reminders:
        if self.first_working_day > self.last_working_day:
            raise rule_error(
                [
                    (
                        ("last_working_day",),
                        f"must be >= first_working_day ({self.first_working_day})",
                    )
                ]
            )
        return self


class Collections(Section):
    """Collection stages and frequency floors per DPD bucket (OD-4, OD-5, OD-8)."""

    stages: dict[BucketName, CollectionStage] = Field(
        description="Management focus of each DPD bucket; every bucket must have one."
    )
    min_contacts_per_week: dict[BucketName, Count] = Field(
        description="Minimum collection contacts per week for each bucket (7 = daily)."
    )
    agreement_min_dpd: Count = Field(
        description="From this DPD an officer may negotiate a repayment agreement (OD-4)."
    )
    legal_min_dpd: Count = Field(description="Legal action may be proposed from this DPD (OD-8).")
    legal_min_failed_contacts: Count = Field(
        description="...and only after at least this many failed collection contacts."
    )


class Contact(Section):
    """Collection conduct: which jurisdiction's rules apply and what each allows."""

    default_jurisdiction: JurisdictionCode = Field(
        description="Rules used when a customer's jurisdiction is not recorded."
    )
    min_staff_per_visit: PositiveCount = Field(description="Staff needed on a field visit (OD-5).")
    jurisdictions: dict[JurisdictionCode, JurisdictionRules] = Field(
        description="Contact rules by jurisdiction code (CN, US, UK, ...)."
    )

    @model_validator(mode="after")
    def _default_known(self) -> Contact:
        if self.default_jurisdiction not in self.jurisdictions:
            known = ", ".join(sorted(self.jurisdictions)) or "none"
            raise rule_error(
                [
                    (
                        ("default_jurisdiction",),
                        f"no rules for it under jurisdictions (have: {known})",
                    )
                ]
            )
        return self

    def rules_for(self, jurisdiction: str | None) -> JurisdictionRules:
        """Rules of ``jurisdiction``; the default jurisdiction's when it is None or unknown."""
        if jurisdiction is not None and jurisdiction in self.jurisdictions:
            return self.jurisdictions[jurisdiction]
        return self.jurisdictions[self.default_jurisdiction]


class Policy(Section):
    """The whole post-loan policy. Its `version` is the hash of its effective content."""

    dpd_buckets: list[DpdBucket] = Field(
        description="DPD buckets in ascending order: start at 0, contiguous, last open-ended."
    )
    classification: Classification
    allocation: Allocation
    calendar: Calendar
    reminders: Reminders
    collections: Collections
    contact: Contact
    churn: Churn
    relationship: Relationship
    restructuring: Restructuring
    strategies: Strategies
    rating: Rating
    case_allocation: CaseAllocation
    legal: Legal
    kpi: Kpi
    risk: Risk
    tiering: Tiering
    management: Management
    security: Security

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems = bucket_problems(self.dpd_buckets)
        names = list(dict.fromkeys(b.name for b in self.dpd_buckets))
        if names:  # with no buckets at all, every reference would be reported again
            problems += collection_problems(self.collections, names)
        problems += contact_capacity_problems(self.collections, self.contact)
        if problems:
            raise rule_error(problems)
        return self

    @property
    def version(self) -> str:
        """sha256 of the canonical JSON of the effective policy (layout/comments ignored).

        Computed on each access (tens of microseconds) rather than cached, so a copy made with
        `model_copy(update=...)` can never carry its original's version.
        """
        return hashlib.sha256(canonical_json(self).encode("utf-8")).hexdigest()

    def bucket_for(self, dpd: int) -> str:
        """Name of the DPD bucket containing ``dpd``."""
        if dpd < 0:
            raise ValueError(f"dpd must be >= 0, got {dpd}")
        for bucket in self.dpd_buckets:
            if bucket.max_dpd is None or dpd <= bucket.max_dpd:
                return bucket.name
        raise ValueError(f"dpd {dpd} is beyond the last bucket")  # unreachable once validated

    def risk_class_for(self, dpd: int, account_type: str) -> RiskClass:
        """Five-category floor from DPD alone (restructuring caps are applied elsewhere)."""
        if dpd < 0:
            raise ValueError(f"dpd must be >= 0, got {dpd}")
        floors = self.classification.floors_for(account_type)
        if dpd > floors.loss:
            return "loss"
        if dpd > floors.doubtful:
            return "doubtful"
        if dpd > floors.substandard:
            return "substandard"
        if dpd > floors.special_mention and dpd > self.classification.technical_grace_days:
            return "special_mention"
        return "normal"


def canonical_json(policy: Policy) -> str:
    """The policy as sorted, compact JSON: the text its version is computed from."""
    return json.dumps(
        policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


__all__ = [
    "AccountType",
    "Allocation",
    "Calendar",
    "Churn",
    "ClassFloors",
    "Classification",
    "CollectionStage",
    "Collections",
    "Contact",
    "DpdBucket",
    "JurisdictionRules",
    "Policy",
    "Reminders",
    "Risk",
    "RiskClass",
    "Security",
    "canonical_json",
]
