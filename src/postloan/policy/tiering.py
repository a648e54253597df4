"""Customer tiering (SPEC LY-1 … LY-3, seeds 001 and 004): the classification cut-offs (purpose,
credit status, repayment capacity), the tier matrix, the floors no tier may contradict, the
hysteresis of upgrades, each tier's strategy, and the RFM segments.

The defaults and the reasoning behind each one are in ``default_policy.toml``; how the rules
use them is `docs/tiering.md`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictStr, model_validator

from postloan.policy.base import Count, PositiveCount, Section
from postloan.policy.errors import Loc, rule_error

Tier = Literal["premium", "low", "medium", "high"]
TIERS: tuple[Tier, ...] = ("premium", "low", "medium", "high")  # best first: rank = index
CreditStatus = Literal["good", "average", "poor"]
CREDIT_STATUSES: tuple[CreditStatus, ...] = ("good", "average", "poor")
Capacity = Literal["strong", "average", "weak"]
CAPACITIES: tuple[Capacity, ...] = ("strong", "average", "weak")
PurposeClass = Literal["consumer", "business", "housing", "other"]
PURPOSE_CLASSES: tuple[PurposeClass, ...] = ("consumer", "business", "housing", "other")
Monitoring = Literal["daily", "weekly", "monthly", "quarterly"]
Score = Annotated[int, Field(strict=True, ge=1, le=5)]
Text = Annotated[StrictStr, Field(min_length=1, max_length=200)]
SegmentName = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class PurposeMap(Section):
    """LY-1 purpose class (按借款用途分类) of each DATA_CONTRACT loan purpose."""

    consumer: PurposeClass
    business: PurposeClass
    housing: PurposeClass
    working_capital: PurposeClass
    fixed_asset: PurposeClass
    project: PurposeClass
    other: PurposeClass
    card: PurposeClass = Field(description="A customer whose largest balance is a card.")
    unknown: PurposeClass = Field(description="A loan without a purpose.")


class CreditCutoffs(Section):
    """LY-1 credit status (信用状况): good / average / poor from DPD and times late."""

    good_max_times_late: Count = Field(
        description="Good: DPD 0 on D and at most this many overdue periods ever (all accounts)."
    )
    poor_min_times_late: PositiveCount = Field(
        description="Poor from this many overdue periods ever (all accounts)."
    )
    poor_min_dpd: PositiveCount = Field(description="Poor from this worst DPD on D.")

    @model_validator(mode="after")
    def _ordered(self) -> CreditCutoffs:
        if self.poor_min_times_late <= self.good_max_times_late:
            raise rule_error([(("poor_min_times_late",),
                               "must be above good_max_times_late")])  # fmt: skip
        return self


class CapacityCutoffs(Section):
    """LY-1 repayment capacity (还款能力): strong / average / weak from the instalments' share
    of monthly income (DSR) and the liabilities against a year's income (DTI)."""

    strong_max_dsr_percent: Count = Field(description="Strong: DSR at most this …")
    strong_max_dti_percent: Count = Field(description="… and DTI at most this.")
    weak_min_dsr_percent: Count = Field(description="Weak: DSR above this …")
    weak_min_dti_percent: Count = Field(description="… or DTI above this.")
    when_income_unknown: Capacity = Field(
        description="Capacity of a customer without a (positive) monthly income on file."
    )

    @model_validator(mode="after")
    def _ordered(self) -> CapacityCutoffs:
        problems: list[tuple[Loc, str]] = []
        if self.weak_min_dsr_percent < self.strong_max_dsr_percent:
            problems.append((("weak_min_dsr_percent",), "must be ≥ strong_max_dsr_percent"))
        if self.weak_min_dti_percent < self.strong_max_dti_percent:
            problems.append((("weak_min_dti_percent",), "must be ≥ strong_max_dti_percent"))
        if problems:
            raise rule_error(problems)
        return self


class MatrixRow(Section):
    strong: Tier
    average: Tier
    weak: Tier


class TierMatrix(Section):
    """LY-2: the tier each (credit status, capacity) qualifies for, before the floors."""

    good: MatrixRow
    average: MatrixRow
    poor: MatrixRow


class Floors(Section):
    """The least risky tier a customer may have: by the worst five-category class of their
    accounts on D, and with an open collections case. Substandard or worse and an open case
    are high risk by rule (a tier never contradicts them): the policy cannot lower them."""

    special_mention: Tier
    substandard: Literal["high"]
    doubtful: Literal["high"]
    loss: Literal["high"]
    open_case: Literal["high"]


class Strategy(Section):
    """A tier's strategy (分层管理策略)."""

    monitoring: Monitoring = Field(description="How often the tier's accounts are reviewed.")
    review_cycle_months: PositiveCount = Field(description="Full file review every N months.")
    contact_plan: Text = Field(description="The contact plan, in plain words.")
    offers: list[Text] = Field(description="Offers allowed to the tier (may be empty).")


class Strategies(Section):
    premium: Strategy
    low: Strategy
    medium: Strategy
    high: Strategy


class RfmSegment(Section):
    """A named RFM segment: scores within [min, max] on each of R, F, M (1 worst … 5 best)."""

    name: SegmentName
    r_min: Score = 1
    r_max: Score = 5
    f_min: Score = 1
    f_max: Score = 5
    m_min: Score = 1
    m_max: Score = 5


class Rfm(Section):
    """LY-3 RFM adapted to loans: quintile scores; segments in order, the first that matches."""

    segments: list[RfmSegment]
    otherwise: SegmentName = Field(description="The segment of a customer no rule matches.")

    @model_validator(mode="after")
    def _unique(self) -> Rfm:
        names = [s.name for s in self.segments] + [self.otherwise]
        if len(set(names)) != len(names):
            raise rule_error([(("segments",), "segment names must be unique")])
        return self


class Abc(Section):
    """LY-3 ABC: value (A) by value contribution (a year's interest on the balance) — the
    cumulative shares of the total value that close classes A and B; risk (B) is the tier;
    need (C) from the signals of a financing or credit-line need (`rules/need.py`)."""

    a_max_share_percent: Annotated[int, Field(strict=True, ge=1, le=100)] = Field(
        description="A: the customers ahead of whom lies less than this share of the value."
    )
    b_max_share_percent: Annotated[int, Field(strict=True, ge=1, le=100)] = Field(
        description="B: the next ones, up to this cumulative share; C the rest."
    )
    card_annual_rate: Annotated[int, Field(strict=True, ge=0, le=100_000_000)] = Field(
        description="The yearly rate a card balance earns, in 1e-8 (cards carry no contract "
        "rate): 18_250_000 = 18.25 %."
    )

    need_renewal_within_months: PositiveCount = Field(
        3,
        description="Need (ABC's C): a loan whose last instalment falls within this many months "
        "of D signals a financing need beyond it (续贷).",
    )
    need_utilisation_percent: Annotated[int, Field(strict=True, ge=1, le=100)] = Field(
        80,
        description="Need: a card used to at least this share of its credit limit on D signals "
        "a credit-line need.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Abc:
        if self.b_max_share_percent < self.a_max_share_percent:
            raise rule_error([(("b_max_share_percent",), "must be ≥ a_max_share_percent")])
        return self


TreeFeature = Literal["max_dpd", "times_late", "credit_rank", "capacity_rank", "rfm_r", "rfm_f",
                      "rfm_m"]  # fmt: skip
TREE_FEATURES: tuple[TreeFeature, ...] = ("max_dpd", "times_late", "credit_rank",
                                          "capacity_rank", "rfm_r", "rfm_f", "rfm_m")  # fmt: skip
TreeLabel = Literal["npl", "performing"]


class TreeCondition(Section):
    feature: TreeFeature
    op: Literal["<=", ">"]
    value: Annotated[int, Field(strict=True, ge=-(2**24) + 1, le=2**24 - 1)]


class TreeRule(Section):
    """A leaf of the adopted tree: every condition holds → `label`."""

    conditions: list[TreeCondition] = Field(max_length=12)
    label: TreeLabel


class TierTree(Section):
    """LY-3 decision tree adopted into the policy (after a second person's approval): customers
    its rules label `npl` qualify for at least `npl_floor` (a tree only ever raises the tier's
    risk, so it never contradicts a floor). No rules: no tree."""

    npl_floor: Tier = Field(description="The least risky tier of a customer the tree labels npl.")
    rules: list[TreeRule] = Field(
        default_factory=list, max_length=64, description="The tree's leaves, as fitted."
    )


class Tiering(Section):
    """Customer tiering (LY-1 … LY-3)."""

    purposes: PurposeMap
    credit: CreditCutoffs
    capacity: CapacityCutoffs
    matrix: TierMatrix
    floors: Floors
    upgrade_after_dates: PositiveCount = Field(
        description="Hysteresis: a customer moves to a better tier only after qualifying for "
        "it on this many consecutive stored dates (a worse tier applies at once)."
    )
    strategies: Strategies
    rfm: Rfm
    abc: Abc
    tree: TierTree
