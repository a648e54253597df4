"""Early reminders (提醒, OD-3): every account that goes overdue gets a reminder task, due within
the policy's window of working days after the missed due date (PRC calendar), stating the
overdue amount, the days overdue, a repayment deadline and the lender's contact.

`new_reminders` is the vectorised part: which accounts went overdue on a date (they were not
overdue the stored day before — or, on the first date of a store, at all) and their windows.
Working-day arithmetic runs once per distinct due date, not per account. `message` renders the
text in zh-CN or English; `breaches` lists reminders done after, or still open past, their
window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, or_, select

from postloan.calendar import PRC_TZ, WorkingCalendar
from postloan.collections.tables import tasks
from postloan.money import format_amount
from postloan.policy import Policy
from postloan.store.values import as_utc

REMINDER_COLUMNS = [
    "customer_id", "account_id", "overdue_from", "window_start", "due_by", "pay_by",
    "overdue_amount", "dpd",
]  # fmt: skip


def new_reminders(
    overdue_today: pl.DataFrame,
    overdue_before: pl.DataFrame,
    policy: Policy,
    calendar: WorkingCalendar,
    as_of: date,
) -> pl.DataFrame:
    """Reminder rows for the accounts overdue on `as_of` that were not overdue the day before.

    In: overdue status rows (customer_id, account_id, dpd, overdue_amount) of the date and of
    the previous stored date. Out: customer_id, account_id, overdue_from, window_start, due_by,
    pay_by, overdue_amount, dpd — one row per newly overdue account.
    """
    fresh = overdue_today.join(overdue_before.select("account_id"), on="account_id", how="anti")
    fresh = fresh.with_columns(
        (pl.lit(as_of) - pl.duration(days=pl.col("dpd"))).cast(pl.Date).alias("overdue_from")
    )
    r = policy.reminders
    windows = [
        {
            "overdue_from": missed,
            "window_start": calendar.add_working_days(missed, r.first_working_day),
            "due_by": (due_by := calendar.add_working_days(missed, r.last_working_day)),
            "pay_by": due_by + timedelta(days=r.pay_within_days),
        }
        for missed in fresh["overdue_from"].unique().sort().to_list()
    ]
    window_frame = pl.DataFrame(
        windows,
        schema={"overdue_from": pl.Date, "window_start": pl.Date, "due_by": pl.Date,
                "pay_by": pl.Date},
    )  # fmt: skip
    return (
        fresh.join(window_frame, on="overdue_from", how="left")
        .select(REMINDER_COLUMNS)
        .sort("account_id")
    )


TEMPLATES = {
    "zh-CN": (
        "【{lender}】尊敬的客户：您尾号{tail}的账户已逾期{dpd}天，逾期金额{amount}元，"
        "请于{pay_by}前还款，以免影响您的信用记录。如有疑问请致电{contact}。"
    ),
    "en": (
        "[{lender}] Dear customer, your account ending {tail} is {dpd} days overdue; the overdue "
        "amount is CNY {amount}. Please pay by {pay_by} to protect your credit record. "
        "Questions: {contact}."
    ),
}


@dataclass(frozen=True)
class Reminder:
    account_id: str
    dpd: int
    overdue_amount: int  # minor units
    pay_by: date


def message(reminder: Reminder, policy: Policy, lang: str = "zh-CN") -> str:
    """The reminder text. Only the account's last 4 characters appear: an SMS may be read by
    someone other than the customer."""
    template = TEMPLATES.get(lang, TEMPLATES["zh-CN"])
    return template.format(
        lender=policy.reminders.lender_name,
        tail=reminder.account_id[-4:],
        dpd=reminder.dpd,
        amount=format_amount(reminder.overdue_amount),
        pay_by=reminder.pay_by.isoformat(),
        contact=policy.reminders.lender_contact,
    )


def complete(conn: Connection, task_id: int, user: str, channel: str, at: datetime) -> None:
    """Mark a reminder done (who, how, when — an aware time; the column stores it in UTC)."""
    if channel not in ("phone", "sms"):
        raise ValueError(f"channel: a reminder goes by phone or sms, not {channel!r}")
    done = conn.execute(
        tasks.update()
        .where(tasks.c.task_id == task_id, tasks.c.status == "open")
        .values(status="done", done_at=at, done_by=user, channel=channel)
    )
    if done.rowcount != 1:
        raise ValueError(f"task {task_id}: no open task with this id")


def breaches(conn: Connection, as_of: date) -> list[dict[str, object]]:
    """Reminders done after their window, or still open after it closed (as of `as_of`)."""
    rows = conn.execute(
        select(tasks)
        .where(tasks.c.kind == "reminder")
        .where(
            or_(
                (tasks.c.status == "open") & (tasks.c.due_by < as_of),
                tasks.c.status == "done",
            )
        )
        .order_by(tasks.c.due_by, tasks.c.account_id)
    ).all()
    out: list[dict[str, object]] = []
    for r in rows:
        due_by = r.due_by if isinstance(r.due_by, date) else date.fromisoformat(str(r.due_by))
        if r.status == "done":
            done_on = _local_day(r.done_at)
            if done_on is not None and done_on > due_by:
                out.append(_breach(r.task_id, r.account_id, due_by, "done late", done_on))
        else:
            out.append(_breach(r.task_id, r.account_id, due_by, "not done", None))
    return out


def _breach(
    task_id: int, account_id: str, due_by: date, kind: str, done_on: date | None
) -> dict[str, object]:
    return {
        "task_id": task_id, "account_id": account_id, "due_by": due_by, "breach": kind,
        "done_on": done_on,
    }  # fmt: skip


def _local_day(at: datetime | str | None) -> date | None:
    """The PRC calendar day of a stored timestamp (stored in UTC; 07:00 in Beijing is still
    the previous day in UTC)."""
    moment = as_utc(at)
    return None if moment is None else moment.astimezone(PRC_TZ).date()
