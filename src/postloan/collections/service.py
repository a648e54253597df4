"""Cases in the store: the first of collections' daily-run steps (`collections.steps`).

`replay_cases(conn, first, days, policy, run_id)` makes the case tables what replaying every
stored business date from `first` on would make them: it first undoes every case transition
dated `first` or later (cases opened, stage moves, closures, accounts joined), then applies
`cases.case_changes` date by date over the stored account status, creating the reminders of
accounts that went overdue (`reminders.new_reminders`). So a run — daily, backfill,
or a re-run of an old date — leaves the same cases as one uninterrupted history would, and
re-running gives the same result. Deleting the latest stored date (`runs.stored_dates`) is a
rebuild from the date before it, or, when none is left, an undo of everything from it on.

Only overdue status rows are read (DPD > 0): a customer without any is simply not overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, and_, bindparam, delete, select, update

from postloan.calendar import WorkingCalendar
from postloan.collections.cases import OPEN_CASES, CaseChanges, case_changes
from postloan.collections.disposals import without_disposed
from postloan.collections.handover import paused_customers
from postloan.collections.reminders import new_reminders
from postloan.collections.tables import case_accounts, case_stages, cases, tasks
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status
from postloan.store.values import stored_date

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CasesResult:
    dates: int
    opened: int
    moved: int
    closed: int
    open_after: int
    reminders: int


def roll_back(conn: Connection, first: date) -> None:
    """Undo every case transition dated `first` or later, and the untouched reminders those
    dates created (work done stays: a reminder sent was sent)."""
    conn.execute(
        delete(tasks).where(
            tasks.c.kind.in_(("reminder", "contact")),
            tasks.c.created_on >= first,
            tasks.c.status == "open",
        )
    )
    conn.execute(delete(case_accounts).where(case_accounts.c.added_on >= first))
    conn.execute(delete(case_stages).where(case_stages.c.entered_on >= first))
    conn.execute(delete(cases).where(cases.c.opened_on >= first))
    conn.execute(
        update(cases)
        .where(cases.c.closed_on >= first)
        .values(status="open", closed_on=None, close_reason=None)
    )
    conn.execute(update(case_stages).where(case_stages.c.left_on >= first).values(left_on=None))
    current_stage = (
        select(case_stages.c.stage)
        .where(case_stages.c.case_id == cases.c.case_id, case_stages.c.left_on.is_(None))
        .scalar_subquery()
    )
    conn.execute(update(cases).where(cases.c.status == "open").values(stage=current_stage))


def _reminder_keys(conn: Connection) -> set[tuple[str, date]]:
    rows = conn.execute(
        select(tasks.c.account_id, tasks.c.overdue_from).where(tasks.c.kind == "reminder")
    ).all()
    return {(r.account_id, stored_date(r.overdue_from)) for r in rows}


def _store_reminders(
    conn: Connection, fresh: pl.DataFrame, day: date, known: set[tuple[str, date]]
) -> int:
    rows = [
        {**r, "kind": "reminder", "created_on": day, "status": "open"}
        for r in fresh.to_dicts()
        if (r["account_id"], r["overdue_from"]) not in known
    ]
    if rows:
        conn.execute(tasks.insert(), rows)
        known.update((r["account_id"], r["overdue_from"]) for r in rows)
    return len(rows)


def _overdue_rows(conn: Connection, day: date) -> pl.DataFrame:
    rows = conn.execute(
        select(
            account_status.c.customer_id,
            account_status.c.account_id,
            account_status.c.dpd,
            account_status.c.bucket,
            account_status.c.overdue_amount,
        ).where(account_status.c.as_of == day, account_status.c.dpd > 0)
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"customer_id": pl.String, "account_id": pl.String, "dpd": pl.Int32,
                "bucket": pl.String, "overdue_amount": pl.Int64},
        orient="row",
    )  # fmt: skip


def _open_cases(conn: Connection) -> tuple[pl.DataFrame, set[tuple[int, str]]]:
    rows = conn.execute(
        select(cases.c.case_id, cases.c.customer_id, cases.c.stage).where(cases.c.status == "open")
    ).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=OPEN_CASES, orient="row")
    grouped = conn.execute(
        select(case_accounts.c.case_id, case_accounts.c.account_id)
        .join(cases, cases.c.case_id == case_accounts.c.case_id)
        .where(cases.c.status == "open")
    ).all()
    return frame, {(int(r.case_id), r.account_id) for r in grouped}


_MOVE_CASE = update(cases).where(cases.c.case_id == bindparam("cid")).values(stage=bindparam("to"))
_LEAVE_STAGE = (
    update(case_stages)
    .where(and_(case_stages.c.case_id == bindparam("cid"), case_stages.c.left_on.is_(None)))
    .values(left_on=bindparam("day"))
)
_CLOSE_CASE = (
    update(cases)
    .where(cases.c.case_id == bindparam("cid"))
    .values(status="closed", closed_on=bindparam("day"), close_reason=bindparam("reason"))
)


def _apply(
    conn: Connection, changes: CaseChanges, run_id: int, grouped: set[tuple[int, str]]
) -> pl.DataFrame:
    """Store one date's changes; returns the open cases after it (OPEN_CASES)."""
    day = changes.as_of
    new_ids: dict[str, int] = {}
    if changes.opened.height:
        opened = changes.opened.to_dicts()
        rows = [
            {"customer_id": r["customer_id"], "status": "open", "stage": r["stage"],
             "opened_on": day, "opened_max_dpd": r["max_dpd"],
             "opened_overdue_amount": r["overdue_amount"], "opened_run_id": run_id}
            for r in opened
        ]  # fmt: skip
        result = conn.execute(
            cases.insert().returning(
                cases.c.case_id, cases.c.customer_id, sort_by_parameter_order=True
            ),
            rows,
        )
        new_ids = {customer: int(case_id) for case_id, customer in result.all()}
        conn.execute(
            case_stages.insert(),
            [{"case_id": new_ids[r["customer_id"]], "entered_on": day, "stage": r["stage"]}
             for r in opened],
        )  # fmt: skip
    if changes.moved.height:
        moved = changes.moved.to_dicts()
        conn.execute(_LEAVE_STAGE, [{"cid": r["case_id"], "day": day} for r in moved])
        conn.execute(
            case_stages.insert(),
            [{"case_id": r["case_id"], "entered_on": day, "stage": r["to_stage"]} for r in moved],
        )
        conn.execute(_MOVE_CASE, [{"cid": r["case_id"], "to": r["to_stage"]} for r in moved])
    if changes.closed.height:
        closed = changes.closed.to_dicts()
        conn.execute(_LEAVE_STAGE, [{"cid": r["case_id"], "day": day} for r in closed])
        conn.execute(
            _CLOSE_CASE, [{"cid": r["case_id"], "day": day, "reason": r["reason"]} for r in closed]
        )
        closed_ids = {int(r["case_id"]) for r in closed}
        grouped -= {pair for pair in grouped if pair[0] in closed_ids}

    current = changes.current.with_columns(
        pl.col("case_id").fill_null(
            pl.col("customer_id").replace_strict(new_ids, default=None, return_dtype=pl.Int64)
        )
    )
    joined = []
    for case_id, accounts in current.select("case_id", "accounts").iter_rows():
        for account_id in accounts:
            if (case_id, account_id) not in grouped:
                grouped.add((case_id, account_id))
                joined.append({"case_id": case_id, "account_id": account_id, "added_on": day})
    if joined:
        conn.execute(case_accounts.insert(), joined)
    return current.select(list(OPEN_CASES)).cast(OPEN_CASES)  # type: ignore[arg-type]


def replay_cases(
    conn: Connection, first: date, days: list[date], policy: Policy, run_id: int,
    progress: Progress | None = None,
) -> CasesResult:  # fmt: skip
    """Roll back to before `first` and replay the stored dates `days` (all from `first` on, in
    order) — the cases part of the module doc; the steps after the cases are `steps.STEPS`."""
    roll_back(conn, first)
    open_cases, grouped = _open_cases(conn)
    calendar = WorkingCalendar.from_policy(policy)
    known = _reminder_keys(conn)
    earlier = latest_stored_date(conn, before=first)
    before = _overdue_rows(conn, earlier) if earlier is not None else None
    opened = moved = closed = reminded = 0
    # Customers whose collection work another area has paused (a hardship plan being kept):
    # no new reminders while the pause is in force.
    paused = sorted(paused_customers(conn))
    for i, day in enumerate(days):
        today = _overdue_rows(conn, day)
        today = without_disposed(conn, today, day)  # disposal hook: written-off accounts leave
        changes = case_changes(open_cases, today, policy, day)
        open_cases = _apply(conn, changes, run_id, grouped)
        fresh = new_reminders(today, today.clear() if before is None else before, policy,
                              calendar, day)  # fmt: skip
        if before is None:  # a store's first date: only reminders whose window is still open
            fresh = fresh.filter(pl.col("due_by") >= day)
        if paused:
            fresh = fresh.filter(~pl.col("customer_id").is_in(paused))
        reminded += _store_reminders(conn, fresh, day, known)
        before = today
        opened += changes.opened.height
        moved += changes.moved.height
        closed += changes.closed.height
        if progress:
            progress(i + 1, len(days))
    return CasesResult(len(days), opened, moved, closed, open_cases.height, reminded)
