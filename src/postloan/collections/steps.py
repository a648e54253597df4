"""Collections' part of the daily run, declared as steps (`postloan.area.Step`).

The run (`runs.steps`) hands every step the stored dates from the run's first date on. With
dates, a step derives its rows from them; with none (the latest stored date was deleted and no
later one is left) it undoes what it derived from `first` on. The order — each step names the
one before it — matters: a case gets its strategy before its rating and its collector; legal
proposals and the weekly contact tasks then see today's rating and collector; promises are
decided as of the latest date first because they set a case's priority.
"""

from __future__ import annotations

from postloan.area import Step, StepContext
from postloan.collections.allocation import allocate
from postloan.collections.disposals import label_disposal_closures
from postloan.collections.floors import schedule_contact_tasks
from postloan.collections.legal_proposals import forget_proposals_from, propose_legal_action
from postloan.collections.promises import undecide_promises_from, update_promises
from postloan.collections.rating import forget_ratings_from, rerate_cases
from postloan.collections.service import CasesResult, replay_cases
from postloan.collections.strategies import assign_strategies, forget_strategies_from


def cases(ctx: StepContext) -> CasesResult:
    """Cases opened, moved and closed, and the reminders of accounts gone overdue."""
    return replay_cases(ctx.conn, ctx.first, ctx.dates, ctx.policy, ctx.run_id)


def promises(ctx: StepContext) -> None:
    if ctx.dates:
        update_promises(ctx.conn, ctx.dates[-1])
    else:
        undecide_promises_from(ctx.conn, ctx.first)


def strategies(ctx: StepContext) -> None:
    if ctx.dates:
        assign_strategies(ctx.conn, ctx.dates, ctx.policy)
    else:
        forget_strategies_from(ctx.conn, ctx.first)


def ratings(ctx: StepContext) -> None:
    if ctx.dates:
        rerate_cases(ctx.conn, ctx.dates, ctx.policy)
    else:
        forget_ratings_from(ctx.conn, ctx.first)


def allocation(ctx: StepContext) -> None:
    # With no date left: release the collectors of the cases that are gone (a collector's
    # scope follows the allocation).
    allocate(ctx.conn, ctx.dates[-1] if ctx.dates else ctx.first, ctx.policy, ctx.now)


def legal_proposals(ctx: StepContext) -> None:
    if ctx.dates:
        propose_legal_action(ctx.conn, ctx.dates, ctx.policy)
        # Not legal, but run here since it was (the run record's steps stay the same): the
        # cases these dates closed because their accounts were written off or disposed of.
        label_disposal_closures(ctx.conn, ctx.dates)
    else:
        forget_proposals_from(ctx.conn, ctx.first)


def contact_tasks(ctx: StepContext) -> None:
    if ctx.dates:
        schedule_contact_tasks(ctx.conn, ctx.dates, ctx.policy)


STEPS: tuple[Step, ...] = (
    Step("collections.cases", cases),
    Step("collections.promises", promises, after=("collections.cases",)),
    Step("collections.strategies", strategies, after=("collections.promises",)),
    Step("collections.ratings", ratings, after=("collections.strategies",)),
    Step("collections.allocation", allocation, after=("collections.ratings",)),
    Step("collections.legal_proposals", legal_proposals, after=("collections.allocation",)),
    Step("collections.contact_tasks", contact_tasks, after=("collections.legal_proposals",)),
)
