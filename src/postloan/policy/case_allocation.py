"""Allocation of cases to collectors (SPEC ORG-1, seed 002 二(二)).

Open cases without a collector go to an active collector of the customer's branch — of the
stage's team when `teams` names one — the least loaded first. The defaults and why are in
``default_policy.toml``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from postloan.policy.base import PositiveCount, Section
from postloan.policy.strategies import CaseStage

TeamName = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class CaseAllocation(Section):
    """Who may hold a case and how many (ORG-1)."""

    teams: dict[CaseStage, TeamName] = Field(
        description="The collectors' team (users.team) that works each stage; a stage not "
        "listed goes to any collector of the branch."
    )
    max_open_cases_per_collector: PositiveCount = Field(
        description="A collector is given no new case beyond this many open ones."
    )
