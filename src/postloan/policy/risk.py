"""Risk assessment and early warning (SPEC RK-1, EW-1, seeds 000, 001, 003): the weighted
indicator score, the officer override's reason codes and the early-warning signal catalogue.

The score (0-100, higher = riskier, like the case rating of OD-7) is the weighted average of
four indicators' points, each from a step table (`rating.Step`: the points of the highest step
the value reaches):

- `credit`: the larger of the worst-DPD points and the times-late points (cumulative overdue
  periods on the customer's worst account);
- `capacity`: the larger of the debt-ratio points (total liabilities / total assets, percent)
  and the income-drop points (latest `income_change` event against the income on file);
- `industry`: `industry.listed_points` when the customer's industry is on the risk list;
- `churn`: points by the churn grade the churn area stored for the customer on the date.

Signals (`Signal`) name one of a fixed set of computations (`Computation`) with a threshold;
the catalogue is data, the computations are code (`risk.rules.signals`). Defaults and why:
``default_policy.toml``; how they are computed and back-tested: ``docs/risk.md``.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, model_validator

from postloan.policy.base import Count, PositiveCount, Section
from postloan.policy.errors import rule_error
from postloan.policy.rating import Grade, Points, Step, _step_problems

Indicator = Literal["credit", "capacity", "industry", "churn"]
INDICATORS: tuple[Indicator, ...] = ("credit", "capacity", "industry", "churn")
Family = Literal["overdue", "debt", "score", "income", "industry", "legal", "non_financial"]
# What a signal computes (risk.rules.signals): each reads one derived column per customer/date.
Computation = Literal[
    "dpd_between",  # worst DPD in [threshold, upper]
    "overdue_growth",  # overdue amount up by >= threshold % over window_days (payments falling)
    "score_rise",  # risk score up by >= threshold points over window_days (credit score drop)
    "balance_growth",  # total outstanding balance up by >= threshold % over window_days
    "income_drop",  # latest income_change in lookback >= threshold % below income on file
    "industry_listed",  # industry on the risk list (threshold unused: 1)
    "event_count",  # >= threshold events of `event_type` in lookback_days
    "broken_promises",  # >= threshold broken promises (collections) decided in lookback_days
]
RiskClass = Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
Severity = Literal["low", "medium", "high"]
OwnerRole = Literal["credit_officer", "risk_manager", "collection_supervisor", "customer_service",
                    "legal_officer"]  # fmt: skip
EventType = Literal["complaint", "lawsuit", "asset_transfer", "bureau_update", "income_change"]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TEXT = re.compile(r"^[^\x00-\x1f]{1,64}$")


def _signal_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("a signal id is 1-32 lower-case letters, digits or '_', a letter first")
    return value


def _text(value: str) -> str:
    if not _TEXT.match(value):
        raise ValueError("1-64 printable characters")
    return value


SignalId = Annotated[StrictStr, AfterValidator(_signal_id)]
Text = Annotated[StrictStr, AfterValidator(_text)]


class ScoreBins(Section):
    """Step tables of the indicators' inputs (points 0-100)."""

    worst_dpd_points: list[Step] = Field(description="credit: by the worst DPD on the date.")
    times_late_points: list[Step] = Field(
        description="credit: by the most overdue periods (late or unpaid) of one account."
    )
    debt_ratio_points: list[Step] = Field(
        description="capacity: by total liabilities / total assets, percent (no assets: last step)."
    )
    income_drop_points: list[Step] = Field(
        description="capacity: by the percent drop of the latest reported income (none: 0)."
    )
    churn_grade_points: dict[Literal["1", "2", "3"], Points] = Field(
        description="churn: points by the churn grade stored on the date (not churned: 0)."
    )


class IndustryRisk(Section):
    listed: list[Text] = Field(description="Industries (as on the customer file) on the list.")
    listed_points: Points = Field(description="industry: points when the industry is listed.")


class Score(Section):
    """RK-1: weights, bins, grades and the officer override's reason codes."""

    weights: dict[Indicator, Count] = Field(description="Weight of each indicator.")
    bins: ScoreBins
    industry: IndustryRisk
    income_lookback_days: PositiveCount = Field(
        description="An income change older than this is not counted."
    )
    grades: list[Grade] = Field(description="Grades by score, ascending from 0.")
    override_reasons: list[SignalId] = Field(
        description="Reason codes an officer's qualitative assessment (定性评估) must give."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Score:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for indicator in INDICATORS:
            if indicator not in self.weights:
                problems.append(
                    (("weights", indicator), "every indicator needs a weight (0 to ignore)")
                )
        if self.weights and sum(self.weights.values()) == 0:
            problems.append((("weights",), "at least one weight must be above 0"))
        for table in ("worst_dpd_points", "times_late_points", "debt_ratio_points",
                      "income_drop_points"):  # fmt: skip
            found = _step_problems(table, getattr(self.bins, table))
            problems += [(("bins", *loc), why) for loc, why in found]
        if not self.grades or self.grades[0].at_least != 0:
            problems.append((("grades",), "needs grades, the first starting at 0"))
        for i in range(1, len(self.grades)):
            if self.grades[i].at_least <= self.grades[i - 1].at_least:
                problems.append((("grades", i, "at_least"), "grades must rise strictly"))
        if not self.override_reasons:
            problems.append((("override_reasons",), "needs at least one reason code"))
        if problems:
            raise rule_error(problems)
        return self


class Signal(Section):
    """One early-warning signal (EW-1) of the catalogue."""

    id: SignalId
    family: Family
    computation: Computation
    threshold: PositiveCount = Field(description="The computation's threshold (see Computation).")
    upper: PositiveCount | None = Field(default=None, description="dpd_between: the upper DPD.")
    window_days: PositiveCount | None = Field(
        default=None,
        description="overdue_growth, score_rise, balance_growth: compared with this many days ago.",
    )
    lookback_days: PositiveCount | None = Field(
        default=None, description="event_count, broken_promises, income_drop: the lookback."
    )
    event_type: EventType | None = Field(default=None, description="event_count: which events.")
    severity: Severity
    response: Text = Field(description="What the owner does (call, on-site check, …).")
    deadline_working_days: PositiveCount = Field(
        description="The task is due this many working days after the hit (policy calendar)."
    )
    owner_role: OwnerRole
    watch: bool = Field(description="A hit puts the customer on the watch list.")
    exit_clean_days: PositiveCount = Field(
        description="Exit criterion: off the watch list once this signal has not hit for this "
        "many days (and no other watch signal holds them)."
    )

    @model_validator(mode="after")
    def _needs(self) -> Signal:
        needs = {"dpd_between": ("upper",), "overdue_growth": ("window_days",),
                 "score_rise": ("window_days",), "balance_growth": ("window_days",),
                 "income_drop": ("lookback_days",),
                 "event_count": ("lookback_days", "event_type"),
                 "broken_promises": ("lookback_days",)}  # fmt: skip
        missing = [
            (name,) for name in needs.get(self.computation, ()) if getattr(self, name) is None
        ]
        problems: list[tuple[tuple[str | int, ...], str]] = [
            (loc, f"{self.computation} needs it") for loc in missing
        ]
        if self.upper is not None and self.upper < self.threshold:
            problems.append((("upper",), "must be at least the threshold"))
        if problems:
            raise rule_error(problems)
        return self


class Backtest(Section):
    bad_min_dpd: PositiveCount = Field(description="The bad event: worst DPD reaches this.")
    horizons_months: list[PositiveCount] = Field(description="Windows after an alert.")


ModelKind = Literal["behaviour", "churn", "generic"]
MODEL_KINDS: tuple[ModelKind, ...] = ("behaviour", "churn", "generic")


class Models(Section):
    """Statistical models (RK-2, EW-2): the model registry's validation gate and the behaviour
    scorecard's outcome definition (the bad event is `backtest.bad_min_dpd`)."""

    outcome_months: PositiveCount = Field(
        description="Behaviour target: the bad event happens within this many months."
    )
    out_of_time_months: PositiveCount = Field(
        description="The latest observation months with a complete outcome kept out of fitting."
    )
    min_validation_auc_pct: Annotated[int, Field(strict=True, ge=50, le=100)] = Field(
        description="A model is validated only with an out-of-time AUC of at least this (%)."
    )
    psi_warning_pct: PositiveCount = Field(description="Monitoring: PSI ≥ this/100 warns.")
    psi_alert_pct: PositiveCount = Field(description="Monitoring: PSI ≥ this/100 alerts.")
    auc_drop_alert_pct: PositiveCount = Field(
        description="Monitoring: a month's AUC this many points (%) below validation alerts."
    )
    pd_band_edges_bp: list[PositiveCount] = Field(
        description="PD bands of the classification matrix: edges in basis points, rising."
    )
    exposure_band_edges: list[PositiveCount] = Field(
        description="Exposure bands of the classification matrix: EAD edges in yuan, rising."
    )
    matrix: list[list[RiskClass]] = Field(
        description="Risk class per PD band (rows) and exposure band (columns); the account's "
        "five-category class is a floor the matrix never lowers."
    )
    lgd_workout_months: PositiveCount = Field(
        description="LGD: recoveries counted within this many months after default."
    )
    lgd_fallback_pct: Annotated[int, Field(strict=True, ge=0, le=100)] = Field(
        description="LGD (%) of an account type without defaults in the history."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Models:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.psi_alert_pct < self.psi_warning_pct:
            problems.append((("psi_alert_pct",), "must be at least psi_warning_pct"))
        for name in ("pd_band_edges_bp", "exposure_band_edges"):
            edges = getattr(self, name)
            if any(b <= a for a, b in pairwise(edges)):
                problems.append(((name,), "must rise strictly"))
        rows, columns = len(self.pd_band_edges_bp) + 1, len(self.exposure_band_edges) + 1
        if len(self.matrix) != rows or any(len(r) != columns for r in self.matrix):
            problems.append((("matrix",), f"needs {rows} rows (PD bands) of {columns} classes "
                                          "(exposure bands)"))  # fmt: skip
        if problems:
            raise rule_error(problems)
        return self


class Risk(Section):
    score: Score
    signals: list[Signal]
    backtest: Backtest
    models: Models

    @model_validator(mode="after")
    def _unique(self) -> Risk:
        ids = [s.id for s in self.signals]
        if len(set(ids)) != len(ids):
            raise rule_error([(("signals",), "signal ids must be unique")])
        if not self.backtest.horizons_months:
            raise rule_error([(("backtest", "horizons_months"), "needs at least one")])
        return self
