"""The relationship area's part of the daily run: loyalty earnings and expiry on month ends
(append-only and keyed: re-running a date appends nothing), then the contact plans' contacts
due on each date (`contact_plans.derive_for_dates`), then kept hardship plans broken by a missed
instalment (`hardship.break_missed`: collections' work resumed), then the survey invitations
after the day's events (`invitations.invite_for_dates`). With no date left (the latest
stored date deleted) nothing is undone: points earned stay in the ledger, as a bank's would."""

from __future__ import annotations

from postloan.area import Step, StepContext
from postloan.relationship.contact_plans import derive_for_dates
from postloan.relationship.hardship import break_missed
from postloan.relationship.invitations import invite_for_dates
from postloan.relationship.loyalty import earn_for_dates


def loyalty(ctx: StepContext) -> int:
    return earn_for_dates(ctx.conn, ctx.dates, ctx.policy)


def contacts(ctx: StepContext) -> int:
    return derive_for_dates(ctx.conn, ctx.first, ctx.dates)


def hardship(ctx: StepContext) -> int:
    return break_missed(ctx.conn, ctx.policy, ctx.dates, ctx.now)


def invitations(ctx: StepContext) -> int:
    return invite_for_dates(ctx.conn, ctx.policy, ctx.first, ctx.dates)


STEPS: tuple[Step, ...] = (
    Step("relationship.loyalty", loyalty),
    Step("relationship.contacts", contacts, after=("relationship.loyalty",)),
    # Needs only the payments (imported before the run); a plan broken on a date gives the
    # customer's paused tasks back at once, and collections' next run makes new work for them.
    Step("relationship.hardship", hardship, after=("relationship.contacts",)),
    # After collections' cases (declared first, so ordered first): a case closed today invites.
    Step("relationship.surveys", invitations, after=("relationship.hardship",)),
)
