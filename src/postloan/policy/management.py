"""Management reporting (考核与监控报表, issue 16; SPEC KPI-2, KPI-3): the KPI definitions as
versioned data and the targets staff are judged against.

A definition names its numerator, denominator and 口径 (DOMAIN.md "Reporting conventions"):
count or amount, current (即期) or lagged (递延), current or ever, month-end. Two people asking
for "the overdue rate" read the same definition; a changed definition carries a new `version`,
and every published figure names the definition's id and version (and the run behind the
status it was computed from). How the pack evaluates them: `docs/management.md`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictStr, model_validator

from postloan.policy.base import Count, PositiveCount, Section
from postloan.policy.errors import Loc, rule_error

Numerator = Literal["dpd_at_least", "non_performing", "loss_class"]
Denominator = Literal["outstanding", "outstanding_lagged"]
Basis = Literal["amount", "count"]
Timing = Literal["current", "lagged"]
Status = Literal["current", "ever"]
# month_end: every account on the month's last stored date; cycle_end (credit cards): each
# card on its statement date in the month (账单日口径), loans not counted.
Period = Literal["month_end", "cycle_end"]
KpiId = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[StrictStr, Field(min_length=1, max_length=80)]
Direction = Literal["at_most", "at_least"]
StaffDimension = Literal["branch", "officer", "team", "collector"]
# Figures of the pack that are no definition but may be targets: the flow rates from the roll
# matrix (C→M1 entry, cure), what collection teams are judged on.
FLOW_FIGURES = ("c_m1_rate", "cure_rate")


class KpiDefinition(Section):
    """One published ratio: numerator ÷ denominator under a stated 口径."""

    version: PositiveCount = Field(description="Raised whenever the definition changes.")
    name_zh: Label
    name_en: Label
    numerator: Numerator = Field(
        description="dpd_at_least: accounts with DPD ≥ min_dpd; non_performing: substandard, "
        "doubtful or loss class (五级分类后三类); loss_class: the loss class."
    )
    min_dpd: Count = Field(description="For dpd_at_least; ignored otherwise (set 0).")
    denominator: Denominator = Field(
        description="outstanding: the pool's outstanding principal (or accounts) on the same "
        "date; outstanding_lagged: the pool's on the month-end lag_months earlier (递延)."
    )
    basis: Basis = Field(description="amount: outstanding principal; count: accounts.")
    timing: Timing
    lag_months: Count = Field(description="0 for current timing; ≥ 1 for lagged.")
    status: Status = Field(
        description="current: meets the numerator on the date; ever: met it on any month-end "
        "up to the date (the account's history of stored month-ends)."
    )
    period: Period

    @model_validator(mode="after")
    def _consistent(self) -> KpiDefinition:
        problems: list[tuple[Loc, str]] = []
        if (self.timing == "lagged") != (self.denominator == "outstanding_lagged"):
            problems.append(
                (
                    ("denominator",),
                    "a lagged (递延) figure divides by "
                    "outstanding_lagged, a current (即期) one by outstanding",
                )
            )
        if (self.timing == "lagged") != (self.lag_months > 0):
            problems.append((("lag_months",), "lag_months is ≥ 1 exactly when timing is lagged"))
        if self.period == "cycle_end" and (self.timing, self.status) != ("current", "current"):
            problems.append(
                (
                    ("period",),
                    "a cycle-end (账单日) figure is current (即期) and current status: each "
                    "card on its own statement date, no lag and no ever",
                )
            )
        if self.numerator == "dpd_at_least" and self.min_dpd < 1:
            problems.append((("min_dpd",), "an overdue numerator counts from DPD 1 or more"))
        if problems:
            raise rule_error(problems)
        return self


class Target(Section):
    """A figure a branch or officer is judged on (seed 002 考核与奖惩)."""

    kpi: KpiId = Field(description="A KPI definition's id, or c_m1_rate / cure_rate.")
    direction: Direction = Field(description="at_most: lower is better (risk ratios).")
    value: Annotated[float, Field(strict=True, ge=0, le=1)]
    dimensions: list[StaffDimension] = Field(
        default=["branch", "officer", "team", "collector"],
        min_length=1,
        description="Who is judged on it: branches, loan officers, collection teams, collectors.",
    )


class Management(Section):
    kpis: dict[KpiId, KpiDefinition] = Field(min_length=1)
    vintage_dpd: list[PositiveCount] = Field(
        min_length=1, description="The DPDn+ thresholds of the vintage curves."
    )
    dormant_months: PositiveCount = Field(
        description="Months without a customer-initiated transaction before a card is dormant."
    )
    dormant_share_limit: Annotated[float, Field(strict=True, gt=0, le=1)]
    term_bands: list[PositiveCount] = Field(
        min_length=2,
        max_length=2,
        description="Upper bounds in months of the short and medium term bands (LED-3).",
    )
    targets: list[Target]
    print_months: PositiveCount = Field(
        default=12,
        description="Months in the printable monthly pack the daily run stores (its trend).",
    )

    @model_validator(mode="after")
    def _known(self) -> Management:
        problems: list[tuple[Loc, str]] = [
            (("targets", i, "kpi"), f"no KPI definition {t.kpi!r}")
            for i, t in enumerate(self.targets)
            if t.kpi not in self.kpis and t.kpi not in FLOW_FIGURES
        ]
        if self.term_bands[0] >= self.term_bands[1]:
            problems.append((("term_bands",), "short's bound is below medium's"))
        if problems:
            raise rule_error(problems)
        return self
