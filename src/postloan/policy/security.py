"""Security settings a lender decides (issue 10): which run dates are sane, what a reveal
reason must be, which imported extra columns are not personal data.

Limits that protect the server itself (body sizes, login rates) are not business choices and
live in code (`postloan.api`), not here.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, StrictStr, field_validator

from postloan.policy.base import Count, PositiveCount, Section

_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

KINDS = ("customers", "loans", "schedules", "cards", "card_statements", "payments", "events")


class RunDates(Section):
    """The window of as-of dates a run may be asked for: anything else is refused before the
    run starts (a far-future date once stored poisoned every later run)."""

    max_days_ahead: Count = Field(
        description="A run's as-of date may be at most this many days after today (the server's"
        " local date)."
    )
    max_days_before_first_disbursement: Count = Field(
        description="A run's as-of date may be at most this many days before the earliest"
        " disbursement or card opening in the store (0: not before it)."
    )


class Reveal(Section):
    """What a reason for revealing a full personal value must be (SEC-, DOMAIN masking)."""

    min_reason_chars: PositiveCount = Field(
        description="Shortest reason, counting a CJK character as two (so four Chinese"
        " characters meet a minimum of 8)."
    )
    min_distinct_chars: PositiveCount = Field(
        description="A reason needs at least this many different characters ('aaaaaaaa' is"
        " not a reason)."
    )


ColumnName = Annotated[StrictStr, Field(pattern=_COLUMN.pattern)]


class PersonalData(Section):
    """Columns beyond the contract (kept in each table's `extra`) are personal data unless
    listed here: masked for roles that see personal fields masked, withheld from the rest."""

    non_personal_extra_columns: dict[str, list[ColumnName]] = Field(
        description="Per import kind (customers, loans, …), extra columns that hold no"
        " personal data and may be shown in full to every role that sees the record."
    )

    @field_validator("non_personal_extra_columns")
    @classmethod
    def _known_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind in value:
            if kind not in KINDS:
                raise ValueError(f"{kind}: not an import kind ({', '.join(KINDS)})")
        return value


class Security(Section):
    """Security settings (issue 10)."""

    run_dates: RunDates
    reveal: Reveal
    personal_data: PersonalData
