"""Collection strategies per stage, with a champion/challenger holdout (SPEC OD-9, seed 001).

Each stage of a case runs the stage's *champion* (business as usual); a random, stable share of
cases — the *holdout* — runs the stage's *challenger* instead, so reports can compare cure and
recovery between the two (`collections.strategies.strategy_results`). Which cases are held out
is decided by a hash of (customer, case opened on, `seed`): the same case always falls on the
same side, through re-runs and replays. The defaults and why are in ``default_policy.toml``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, model_validator

from postloan.policy.base import Count, Section
from postloan.policy.errors import rule_error

_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

# The stages a case can be in (the policy's CollectionStage words, without "none").
CASE_STAGES = ("reminder", "negotiation", "intensified", "legal_review")
StrategyChannel = Literal["phone", "sms", "letter", "visit", "email"]
CaseStage = Literal["reminder", "negotiation", "intensified", "legal_review"]
Share = Annotated[float, Field(strict=True, ge=0, le=0.5)]


def _strategy_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("a strategy name is 1-32 lower-case letters, digits or '_'")
    return value


StrategyName = Annotated[StrictStr, AfterValidator(_strategy_name)]


class Strategy(Section):
    """One treatment: how a case is worked while it runs this strategy."""

    description: StrictStr = Field(description="What the collector does, in a sentence.")
    channels: list[StrategyChannel] = Field(
        min_length=1, description="Contact channels in order of preference (the channel mix)."
    )
    contacts_per_week: Count = Field(
        description="Target contacts per week (intensity); the stage's floor and the "
        "jurisdiction's caps still apply."
    )


class StageStrategies(Section):
    """The strategies of one stage: business as usual and the one under test."""

    champion: StrategyName = Field(description="Business as usual for the stage.")
    challenger: StrategyName | None = Field(
        default=None, description="The strategy tested on the holdout; omitted = no test."
    )
    holdout_share: Share = Field(
        description="Share of cases held out of the champion to run the challenger (0-0.5)."
    )


class Strategies(Section):
    """Treatment strategies per case stage and the champion/challenger holdout (OD-9)."""

    seed: Count = Field(
        description="Mixed into the holdout hash; change it to draw a fresh holdout."
    )
    catalogue: dict[StrategyName, Strategy] = Field(
        description="Every strategy the stages may name."
    )
    stages: dict[CaseStage, StageStrategies] = Field(
        description="Champion, challenger and holdout share of every case stage."
    )

    @model_validator(mode="after")
    def _references(self) -> Strategies:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for stage in CASE_STAGES:
            if stage not in self.stages:
                problems.append((("stages", stage), "every case stage needs its strategies"))
        for stage, plan in self.stages.items():
            for role in ("champion", "challenger"):
                name = getattr(plan, role)
                if name is not None and name not in self.catalogue:
                    problems.append(
                        (("stages", stage, role), f"{name!r} is not in strategies.catalogue")
                    )
            if plan.challenger is None and plan.holdout_share > 0:
                problems.append(
                    (("stages", stage, "holdout_share"), "must be 0 when there is no challenger")
                )
            if plan.challenger is not None and plan.challenger == plan.champion:
                problems.append((("stages", stage, "challenger"), "must differ from the champion"))
        if problems:
            raise rule_error(problems)
        return self
