"""Contact rules of one jurisdiction: quiet hours, call caps and cool-downs.

Defaults (see default_policy.toml) follow the PRC NIFA collection guideline (no contact
22:00-08:00, at most 3 connected calls a day) and US Regulation F (calls 08:00-21:00, at most
7 attempts in 7 days, none for 7 days after a conversation).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Field,
    StrictStr,
    field_serializer,
    field_validator,
)

from postloan.policy.base import Count, Section

_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def _jurisdiction_code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError("a jurisdiction is two capital letters, optionally a region: CN, US-NY")
    return value


JurisdictionCode = Annotated[StrictStr, AfterValidator(_jurisdiction_code)]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
DAYS_PER_WEEK = 7


def _clock_time(value: Any) -> time:
    """Accept "22:00", "22:00:00" or a TOML local time; nothing else."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("must be a local time without a time zone")
        return value
    if isinstance(value, str):
        match = _CLOCK.match(value.strip())
        if match:
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
    raise ValueError('must be a clock time such as "22:00"')


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai"
        ) from None
    return value


class JurisdictionRules(Section):
    """What collection contact one jurisdiction allows."""

    timezone: Annotated[StrictStr, AfterValidator(_time_zone)] = Field(
        description="IANA time zone in which quiet hours and daily caps are judged."
    )
    quiet_hours_start: time = Field(
        description="No contact from this local time (inclusive)... (wraps past midnight)"
    )
    quiet_hours_end: time = Field(
        description="...until this local time (exclusive). Equal start and end = no quiet hours."
    )
    max_connected_calls_per_day: Count | None = Field(
        default=None, description="Cap on connected calls per debtor per day; omitted = no cap."
    )
    max_call_attempts_per_7_days: Count | None = Field(
        default=None, description="Cap on call attempts per debt in 7 days; omitted = no cap."
    )
    cooldown_days_after_conversation: Count = Field(
        description="Days without calls after a conversation with the debtor (0 = none)."
    )

    @field_validator("quiet_hours_start", "quiet_hours_end", mode="before")
    @classmethod
    def _parse_clock(cls, value: Any) -> time:
        return _clock_time(value)

    @field_serializer("quiet_hours_start", "quiet_hours_end", when_used="json")
    def _show_clock(self, value: time) -> str:
        # "22:00" as written in the file; seconds only when a policy uses them.
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")

    def in_quiet_hours(self, at: time) -> bool:
        """True when contact at local time ``at`` is not allowed."""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start == end:
            return False
        if start < end:
            return start <= at < end
        return at >= start or at < end

    @property
    def weekly_call_capacity(self) -> int | None:
        """Most calls the caps allow in any 7 days (None = uncapped)."""
        caps = []
        if self.max_connected_calls_per_day is not None:
            caps.append(self.max_connected_calls_per_day * DAYS_PER_WEEK)
        if self.max_call_attempts_per_7_days is not None:
            caps.append(self.max_call_attempts_per_7_days)
        return min(caps) if caps else None

    def weekly_capacity_parameter(self) -> str | None:
        """Name of the cap that sets `weekly_call_capacity` (for error messages)."""
        capacity = self.weekly_call_capacity
        if capacity is None:
            return None
        if self.max_call_attempts_per_7_days == capacity:
            return "max_call_attempts_per_7_days"
        return "max_connected_calls_per_day"
