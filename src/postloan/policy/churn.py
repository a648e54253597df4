"""Churn identification thresholds (SPEC CH-2, seed 000).

The defaults and the reasoning behind each one are in ``default_policy.toml``.
"""

from __future__ import annotations

from pydantic import Field

from postloan.policy.base import PositiveCount, Section


class Churn(Section):
    """Churn identification thresholds (SPEC CH-2); see the default file for the reasoning."""

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
