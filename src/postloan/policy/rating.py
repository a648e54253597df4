"""Case re-rating (SPEC OD-7, seed 002 四(四)): a 0-100 risk score per open case and its grade.

Four factors, each scored 0-100 points by a step table (the points of the highest step the
value reaches), combined as a weighted average:

- `dpd`: the customer's worst days past due;
- `amount`: the customer's total overdue amount (whole currency units);
- `capacity`: the larger of the income-drop points (latest `income_change` event within the
  lookback, against the income on file) and the days-since-last-payment points;
- `credit`: the latest credit-bureau score (`bureau_update` event, else the customer's file).

The score falls into a grade (A = least risky). An `asset_transfer` event of a customer in
collections raises an alert to the risk team. Defaults and why: ``default_policy.toml``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, model_validator

from postloan.policy.base import Count, PositiveCount, Section
from postloan.policy.errors import rule_error

Points = Annotated[int, Field(strict=True, ge=0, le=100)]
Factor = Literal["dpd", "amount", "capacity", "credit"]
FACTORS: tuple[Factor, ...] = ("dpd", "amount", "capacity", "credit")
_GRADE = re.compile(r"^[A-Za-z0-9_+\-]{1,8}$")


def _grade_name(value: str) -> str:
    if not _GRADE.match(value):
        raise ValueError("a grade is 1-8 letters, digits, '_', '+' or '-'")
    return value


class Step(Section):
    """Values from `at_least` up to the next step score `points`."""

    at_least: Count = Field(description="Smallest value of the step (inclusive).")
    points: Points = Field(description="Points (0-100) for values in the step.")


class Grade(Section):
    """Scores from `at_least` up to the next grade's get this grade."""

    name: Annotated[StrictStr, AfterValidator(_grade_name)] = Field(description="e.g. 'C'.")
    at_least: Points = Field(description="Lowest score of the grade (inclusive).")


def _step_problems(name: str, steps: list[Step]) -> list[tuple[tuple[str | int, ...], str]]:
    if not steps:
        return [((name,), "needs at least one step")]
    out: list[tuple[tuple[str | int, ...], str]] = []
    if steps[0].at_least != 0:
        out.append(((name, 0, "at_least"), "the first step must start at 0"))
    for i in range(1, len(steps)):
        if steps[i].at_least <= steps[i - 1].at_least:
            out.append(((name, i, "at_least"), "steps must rise strictly"))
    return out


class Rating(Section):
    """Risk rating of open cases (OD-7): factor step tables, weights and grades."""

    weights: dict[Factor, Count] = Field(
        description="Weight of each factor in the score (a weighted average of points)."
    )
    dpd_points: list[Step] = Field(description="Points by the customer's worst DPD.")
    amount_points: list[Step] = Field(
        description="Points by total overdue amount, in whole currency units."
    )
    income_drop_points: list[Step] = Field(
        description="Points by the percent drop of the latest reported income (no report: 0)."
    )
    income_lookback_days: PositiveCount = Field(
        description="An income change older than this many days is not counted."
    )
    days_since_payment_points: list[Step] = Field(
        description="Points by days since the last payment on an overdue account "
        "(never paid: the last step)."
    )
    bureau_score_points: list[Step] = Field(description="Points by the latest bureau score.")
    missing_bureau_score_points: Points = Field(description="Points when no score is known.")
    grades: list[Grade] = Field(description="Grades by score, ascending from 0 (A = least risk).")
    asset_transfer_lookback_days: PositiveCount = Field(
        description="An asset transfer this many days before a day the customer is in "
        "collections raises an alert."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Rating:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for factor in FACTORS:
            if factor not in self.weights:
                problems.append((("weights", factor), "every factor needs a weight (0 to ignore)"))
        if self.weights and sum(self.weights.values()) == 0:
            problems.append((("weights",), "at least one weight must be above 0"))
        for name in ("dpd_points", "amount_points", "income_drop_points",
                     "days_since_payment_points", "bureau_score_points"):  # fmt: skip
            problems += _step_problems(name, getattr(self, name))
        if not self.grades:
            problems.append((("grades",), "needs at least one grade"))
        elif self.grades[0].at_least != 0:
            problems.append((("grades", 0, "at_least"), "the first grade must start at 0"))
        for i in range(1, len(self.grades)):
            if self.grades[i].at_least <= self.grades[i - 1].at_least:
                problems.append((("grades", i, "at_least"), "grades must rise strictly"))
        names = [g.name for g in self.grades]
        if len(set(names)) != len(names):
            problems.append((("grades",), "grade names must be unique"))
        if problems:
            raise rule_error(problems)
        return self
