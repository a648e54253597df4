"""The relationship area's policy section (`[relationship]`, issue 15): the complaint clock
and codes, hardship-plan limits, loyalty earning rules and survey settings. Every value lives
in `default_policy.toml` with its reason; what uses them is `docs/relationship.md`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from postloan.policy.base import Count, PositiveCount, Section
from postloan.policy.errors import rule_error
from postloan.policy.tiering import Tier


class ComplaintClock(Section):
    """The complaint-handling clock (银行业保险业消费投诉处理管理办法, 2020, Art. 20-21)."""

    day_count: Literal["calendar", "working"] = Field(
        description="How the clock's days are counted: 'calendar' (our reading of 日) or "
        "'working' (PRC working days from the policy calendar)."
    )
    decide_days: PositiveCount = Field(description="Decide and tell the complainant within.")
    complex_days: PositiveCount = Field(description="Complex cases: the limit extended to.")
    extension_days: Count = Field(
        description="Especially complex cases: more days on top of complex_days, only with a "
        "senior approval and a notice to the complainant."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ComplaintClock:
        if self.complex_days < self.decide_days:
            raise rule_error([(("complex_days",), "must be at least decide_days")])
        return self


class Complaints(Section):
    clock: ComplaintClock
    channels: dict[str, str] = Field(description="JR/T 0169-2018 channel codes -> label.")
    business_types: dict[str, str] = Field(description="Business type codes -> label.")
    reasons: dict[str, str] = Field(description="Reason codes -> label.")
    routing: dict[str, str] = Field(
        description="Business type code -> the department responsible for it."
    )

    @model_validator(mode="after")
    def _routed(self) -> Complaints:
        missing = sorted(set(self.business_types) - set(self.routing))
        unknown = sorted(set(self.routing) - set(self.business_types))
        problems: list[tuple[tuple[str, ...], str]] = [
            (("routing",), f"no department for business type {m}") for m in missing
        ]
        problems += [(("routing",), f"unknown business type {u}") for u in unknown]
        if not (self.channels and self.business_types and self.reasons):
            problems.append(((), "channels, business_types and reasons each need a code"))
        if problems:
            raise rule_error(problems)
        return self


class Hardship(Section):
    card_max_months: PositiveCount = Field(
        description="A card hardship instalment plan's longest term (card rules Art. 70: 5 y)."
    )
    loan_max_deferral_months: PositiveCount = Field(
        description="A loan deferral's longest pause of instalments."
    )
    loan_max_extension_months: PositiveCount = Field(
        description="A loan extension's most added months (and never more than the original "
        "term: 个人贷款管理办法)."
    )
    missed_payment_days: PositiveCount = Field(
        description="A kept plan is broken when no payment reaches its account for this many "
        "days once payments are due (the daily run checks it from the payments)."
    )


class EarningRule(Section):
    kind: Literal["on_time_months", "tenure_years", "tier_months"] = Field(
        description="on_time_months: on time (DPD 0) at each of the last `every` month ends; "
        "tenure_years: each `every` completed years since the first account; tier_months: held "
        "in one of `tiers` (the tiers area's) at each of the last `every` month ends."
    )
    every: PositiveCount
    points: PositiveCount
    tiers: list[Tier] = Field(
        default_factory=list, description="tier_months: the tiers that earn (best first)."
    )

    @model_validator(mode="after")
    def _tiers(self) -> EarningRule:
        if (self.kind == "tier_months") != bool(self.tiers):
            raise rule_error([(("tiers",), "a tier_months rule names its tiers; others none")])
        return self


class Loyalty(Section):
    earning: dict[str, EarningRule] = Field(description="Earning rules by name (data).")
    expiry_months: PositiveCount = Field(description="Points expire this long after earning.")
    rate_offer_points: PositiveCount = Field(description="Points a preferential-rate offer costs.")
    rate_offer_discount: PositiveCount = Field(
        description="The offer's rate reduction in 1e-8 (50_000_000 = 0.5 percentage point)."
    )
    goodwill_max_points: PositiveCount = Field(
        description="Most points a goodwill remedy for one complaint may grant."
    )


class SurveyInvitations(Section):
    """Who is invited to a satisfaction survey, after which event (CR-2 targeting)."""

    after: list[Literal["case_closed", "complaint_decided"]] = Field(
        description="The events after which a customer is invited (a collection case closed, "
        "a complaint decided)."
    )
    tiers: list[Tier] = Field(
        default_factory=list, description="Only customers held in these tiers (empty: any)."
    )
    channel: Literal["phone", "sms", "email", "app"] = Field(description="How invited.")
    cooldown_days: PositiveCount = Field(
        description="No second invitation within this many days of the last one."
    )
    needs_consent: bool = Field(
        description="An invitation needs the customer's marketing consent in force (and the "
        "channel not opted out of, always)."
    )
    look_back_days: PositiveCount = Field(
        description="A complaint decided up to this many days before a run date and not yet "
        "invited for (decided between run dates, or recorded after its date was run) invites "
        "on that run date."
    )


class Surveys(Section):
    csat_satisfied_from: PositiveCount = Field(
        description="CSAT: answers at or above this (1-5 scale) count as satisfied."
    )
    confidence: float = Field(gt=0.5, lt=1, description="Confidence level of intervals.")
    invitations: SurveyInvitations
    departments: dict[str, str] = Field(
        description="Questionnaire dimension (question key) -> the department its results go "
        "back to (seed 003: results fed back for improvement)."
    )
    low_score: PositiveCount = Field(
        description="A dimension scored at or below this (1-5) opens a follow-up for the "
        "department owning it."
    )

    @model_validator(mode="after")
    def _scales(self) -> Surveys:
        problems: list[tuple[tuple[str, ...], str]] = []
        if not 1 <= self.csat_satisfied_from <= 5:
            problems.append((("csat_satisfied_from",), "on the 1-5 scale"))
        if not 1 <= self.low_score < 5:
            problems.append((("low_score",), "1 to 4 on the 1-5 scale"))
        bad = sorted(k for k, v in self.departments.items() if not k.isidentifier() or not v)
        problems += [(("departments", k), "a question key and a department") for k in bad]
        if problems:
            raise rule_error(problems)
        return self


class Relationship(Section):
    complaints: Complaints
    hardship: Hardship
    loyalty: Loyalty
    surveys: Surveys
