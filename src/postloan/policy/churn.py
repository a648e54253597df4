"""Churned-customer management (SPEC CH-1 … CH-6, seed 000): identification thresholds, the
degree and grade rules, reason suggestion and the periodic screening of the pool.

The defaults and the reasoning behind each one are in ``default_policy.toml``; how the rules
use them is `docs/churn.md`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, model_validator

from postloan.policy.base import PositiveCount, Section
from postloan.policy.errors import Loc, rule_error

Degree = Literal["light", "moderate", "severe"]
DEGREES: tuple[Degree, ...] = ("light", "moderate", "severe")
# The rules of CH-2 by their export column names (DATA_CONTRACT "Outputs").
ChurnRule = Literal[
    "loan_overdue", "card_default", "closed_not_reapplied", "transferred_out", "inactive"
]
# CH-3 reason classes.
ReasonClass = Literal["policy", "service", "marketing", "competition", "macro", "customer_own"]
REASON_CLASSES: tuple[ReasonClass, ...] = (
    "policy", "service", "marketing", "competition", "macro", "customer_own",
)  # fmt: skip
# The events that may mark a default as suspected malicious (DATA_CONTRACT "events" types).
MaliciousSignal = Literal["asset_transfer", "lawsuit"]

_NAME = re.compile(r"^[^\x00-\x1f]{1,64}$")


def _product(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("a product name is 1-64 printable characters")
    return value


ProductName = Annotated[StrictStr, AfterValidator(_product)]
IndustryName = Annotated[StrictStr, AfterValidator(_product)]
Percent = Annotated[int, Field(strict=True, ge=0, le=100)]


class ProductThresholds(Section):
    """Rule (a)'s thresholds for the loans of one product; a value left out is the default's."""

    loan_consecutive_overdue_periods: PositiveCount | None = Field(
        default=None, description="(a) consecutive overdue periods for this product's loans."
    )
    loan_cumulative_overdue_periods: PositiveCount | None = Field(
        default=None, description="(a) overdue periods in the lookback for this product's loans."
    )


class DegreeRules(Section):
    """CH-4 (流失程度): light / moderate / severe from the customer's state on D."""

    severe_min_dpd: PositiveCount = Field(
        description="Worst DPD on D from which the churn is severe (贷款逾期严重)."
    )
    severe_rules: list[ChurnRule] = Field(
        description="Rules that make the churn severe on their own (主动销户, 业务转移)."
    )
    moderate_min_dpd: PositiveCount = Field(
        description="Worst DPD on D from which the churn is at least moderate (较为明显的逾期)."
    )
    moderate_min_overdue_periods: PositiveCount = Field(
        description="Consecutive overdue periods (loan or card) from which it is at least moderate."
    )
    contact_lookback_months: PositiveCount = Field(
        description="An inactive customer with no `contact` event in this many months is at "
        "least moderate (与公司沟通较少)."
    )


class GradeRules(Section):
    """CH-5 (流失分级): level 1 (highest risk) to level 3 from overdue, amount, malice and
    repayment capacity. Amounts are whole currency units."""

    level1_min_dpd: PositiveCount = Field(description="Level 1 from this worst DPD (逾期时间长).")
    level1_min_overdue_amount: PositiveCount = Field(
        description="Level 1 from this overdue amount on D (欠款金额大), whole currency units."
    )
    malicious_signals: list[MaliciousSignal] = Field(
        description="Events that, while the customer owes overdue money, make a suspected "
        "malicious default (恶意拖欠嫌疑): level 1."
    )
    malicious_lookback_months: PositiveCount = Field(
        description="How far back such an event counts."
    )
    level2_min_dpd: PositiveCount = Field(
        description="Level 2 from this worst DPD (逾期情况较为严重)."
    )
    level2_min_overdue_amount: PositiveCount = Field(
        description="Level 2 from this overdue amount, whole currency units."
    )
    capacity_income_drop_percent: Percent = Field(
        description="An `income_change` this many percent below the income on file is a "
        "capacity problem (还款能力存在一定问题): level 2 when overdue."
    )
    capacity_max_liabilities_to_annual_income: PositiveCount = Field(
        description="Total liabilities above this many years of income are a capacity problem."
    )
    income_lookback_months: PositiveCount = Field(
        description="How far back an `income_change` event counts."
    )


class ReasonRules(Section):
    """CH-3 (流失原因): the class suggested from the evidence, until an officer confirms one."""

    lookback_months: PositiveCount = Field(
        description="Events (complaints, applications, income changes) this many months before "
        "D are evidence of the reason."
    )
    stressed_industries: list[IndustryName] = Field(
        description="Industries under stress (行业受到冲击): a customer of one is suggested "
        "`macro`."
    )
    macro_income_drop_percent: Percent = Field(
        description="An income drop of this many percent together with an overdue rule is "
        "suggested `macro` (经营状况恶化,还款能力下降)."
    )
    application_unanswered_days: PositiveCount = Field(
        description="An application not followed by a new account within this many days "
        "suggests `policy` (could not meet the lender's conditions)."
    )


class Screening(Section):
    """The periodic screening of the pool (定期筛选, CH-6): customers worth pursuing."""

    every_months: PositiveCount = Field(
        description="Screen on the first stored date of every this-many-th month."
    )
    grades: list[Annotated[int, Field(strict=True, ge=1, le=3)]] = Field(
        description="Grades screened (the seed: level-3 customers)."
    )
    degrees: list[Degree] = Field(description="Degrees screened.")
    recent_contact_months: PositiveCount = Field(
        description="A two-way `contact` this many months before the screening is a sign the "
        "relationship can be restored."
    )


Share = Annotated[float, Field(strict=True, ge=0, le=0.5)]
Channel = Literal["phone", "sms", "email", "letter", "visit"]


class Offers(Section):
    """Level-2 win-back offers (CH-6: 优惠利率、延长贷款期限、增加授信额度) the system proposes;
    an officer accepts or declines each (`churn.rules.measures.propose_offers`)."""

    rate_discount_bps: PositiveCount = Field(
        description="A better rate: this many basis points off the customer's current rate."
    )
    term_extra_months: PositiveCount = Field(
        description="A longer term: this many more months for a customer short of capacity."
    )
    limit_increase_percent: Annotated[int, Field(strict=True, ge=1, le=100)] = Field(
        description="A higher limit: this many percent more, for a customer without overdue."
    )


class Measures(Section):
    """CH-6 measures per grade and CH-7 evaluation against a random holdout."""

    holdout_share: Share = Field(
        description="Share of pool episodes held out of every measure (0-0.5), to measure "
        "what the measures change."
    )
    holdout_seed: Annotated[int, Field(strict=True, ge=0)] = Field(
        description="Seed of the holdout draw (hash of seed, customer, episode start)."
    )
    level2_channel: Channel = Field(description="How the account manager follows up (level 2).")
    level3_channels: list[Channel] = Field(
        description="Callback / SMS channels of the level-3 new-product contact, one task each."
    )
    evaluation_days: PositiveCount = Field(
        description="Outcomes are read this many days after the measure; only episodes whose "
        "window has passed are evaluated."
    )
    min_arm_size: PositiveCount = Field(
        description="Fewest evaluated episodes in EACH arm before a measure may be kept."
    )
    confidence: Annotated[float, Field(strict=True, gt=0.5, lt=1)] = Field(
        description="Confidence level of the effect's interval."
    )
    offers: Offers


class Churn(Section):
    """Churned-customer management (CH-2 … CH-7); see the default file for the reasoning."""

    loan_consecutive_overdue_periods: PositiveCount = Field(
        description="(a) loan overdue this many consecutive periods -> churn candidate."
    )
    loan_cumulative_overdue_periods: PositiveCount = Field(
        description="(a) ...or this many overdue periods in the lookback window."
    )
    card_consecutive_months_not_paid_in_full: PositiveCount = Field(
        description="(b) card not paid in full on time this many consecutive months."
    )
    card_overdue_times: PositiveCount = Field(
        description="(b) ...or overdue this many times in the lookback window."
    )
    cumulative_lookback_months: PositiveCount = Field(
        description="Window over which the cumulative counts of (a) and (b) are taken."
    )
    months_after_closing_without_reapplying: PositiveCount = Field(
        description="(c) all accounts closed and no new application for this many months."
    )
    months_after_transfer_out_without_resuming: PositiveCount = Field(
        description="(d) business moved to another lender and not resumed for this many months."
    )
    months_without_credit_transaction: PositiveCount = Field(
        description="(e) no credit transaction (and no explanation) for this many months."
    )
    products: dict[ProductName, ProductThresholds] = Field(
        description="Rule (a)'s thresholds per loan product (the `product` of loans); products "
        "not listed use the thresholds above."
    )
    degree: DegreeRules
    grade: GradeRules
    reasons: ReasonRules
    screening: Screening
    measures: Measures

    @model_validator(mode="after")
    def _consistent(self) -> Churn:
        problems: list[tuple[Loc, str]] = []
        if self.degree.moderate_min_dpd > self.degree.severe_min_dpd:
            problems.append((("degree", "moderate_min_dpd"), "must not exceed severe_min_dpd"))
        if self.grade.level2_min_dpd > self.grade.level1_min_dpd:
            problems.append((("grade", "level2_min_dpd"), "must not exceed level1_min_dpd"))
        if self.grade.level2_min_overdue_amount > self.grade.level1_min_overdue_amount:
            problems.append(
                (("grade", "level2_min_overdue_amount"),
                 "must not exceed level1_min_overdue_amount")
            )  # fmt: skip
        for name, values in (("degree.severe_rules", self.degree.severe_rules),
                             ("grade.malicious_signals", self.grade.malicious_signals),
                             ("screening.grades", self.screening.grades),
                             ("screening.degrees", self.screening.degrees),
                             ("measures.level3_channels",
                              self.measures.level3_channels)):  # fmt: skip
            listed = [str(v) for v in values]
            twice = sorted({v for v in listed if listed.count(v) > 1})
            if twice:
                problems.append((tuple(name.split(".")), f"listed twice: {', '.join(twice)}"))
        if problems:
            raise rule_error(problems)
        return self

    def loan_thresholds(self, product: str | None) -> tuple[int, int]:
        """(consecutive, cumulative) of rule (a) for a loan of `product`."""
        found = self.products.get(product) if product is not None else None
        consecutive = self.loan_consecutive_overdue_periods
        cumulative = self.loan_cumulative_overdue_periods
        if found is not None:
            consecutive = found.loan_consecutive_overdue_periods or consecutive
            cumulative = found.loan_cumulative_overdue_periods or cumulative
        return consecutive, cumulative


__all__ = [
    "DEGREES",
    "REASON_CLASSES",
    "Churn",
    "ChurnRule",
    "Degree",
    "DegreeRules",
    "GradeRules",
    "ProductThresholds",
    "ReasonClass",
    "ReasonRules",
    "Screening",
]
