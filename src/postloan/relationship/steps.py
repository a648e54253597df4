"""The relationship area's part of the daily run: loyalty earnings and expiry on month ends
(append-only and keyed: re-running a date appends nothing). With no date left (the latest
stored date deleted) nothing is undone: points earned stay in the ledger, as a bank's would."""

from __future__ import annotations

from postloan.area import Step, StepContext
from postloan.relationship.loyalty import earn_for_dates


def loyalty(ctx: StepContext) -> int:
    return earn_for_dates(ctx.conn, ctx.dates, ctx.policy)


STEPS: tuple[Step, ...] = (Step("relationship.loyalty", loyalty),)
