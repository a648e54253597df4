"""A collector's work queue over the API: the tasks (reminders, contact tasks) of the customers
in the caller's scope, and a reminder marked sent.

The queue and its order are the workbench's too (`collections.queries`); a task whose customer
is outside the caller's scope answers 404, like one that does not exist.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from postloan.access.scope import row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, Conflict
from postloan.api.routes.policy import effective_policy
from postloan.collections import queries
from postloan.collections.actions import CollectionsAction
from postloan.collections.queries import TaskItem, one_task, tasks_in_scope
from postloan.collections.reminders import complete
from postloan.collections.tables import tasks
from postloan.inputs import BusinessDate, RowId

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=ERROR_RESPONSES)


class Task(BaseModel):
    task_id: int
    kind: str = Field(description="reminder | contact")
    customer_id: str
    account_id: str
    created_on: str
    window_start: str
    due_by: str
    pay_by: str | None
    overdue_amount: str
    dpd: int
    status: str
    done_at: str | None
    done_by: str | None
    channel: str | None
    case_stage: str | None = Field(description="the customer's open case's stage")
    priority: int = Field(description="the open case's priority (higher first)")
    message: str | None = Field(description="reminders: the text to send (zh-CN or en)")


class TaskPage(BaseModel):
    total: int
    items: list[Task]


def _out(item: TaskItem) -> Task:
    return Task(**asdict(item))


@router.get("/tasks", response_model=TaskPage)
def task_queue(
    request: Request,
    status: Literal["open", "done"] = "open",
    kind: Literal["reminder", "contact"] | None = None,
    due_by: BusinessDate | None = Query(None, description="only tasks due on or before this date"),
    lang: Literal["zh-CN", "en"] = "zh-CN",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> TaskPage:
    """The caller's work queue: tasks of the customers in their scope, the highest case
    priority first, then the earliest due."""
    policy, _ = effective_policy(request)
    where: list[Any] = [tasks.c.status == status, tasks_in_scope(user, CollectionsAction.CASE_VIEW)]
    if kind:
        where.append(tasks.c.kind == kind)
    if due_by:
        where.append(tasks.c.due_by <= due_by)
    total, items = queries.task_queue(conn, where, policy, lang, limit, offset)
    return TaskPage(total=total, items=[_out(item) for item in items])


class ReminderDone(BaseModel):
    channel: Literal["phone", "sms"]


@router.post("/tasks/{task_id}/complete", response_model=Task)
def complete_reminder(
    request: Request,
    body: ReminderDone,
    task_id: RowId,
    user: User = Depends(require(CollectionsAction.CONTACT_RECORD)),
    conn: Connection = Depends(get_conn),
) -> Task:
    """Mark a reminder sent (by phone or SMS). Contact tasks are completed by recording the
    contact (`POST /api/collections/contacts`)."""
    row = row_in_scope(conn, user, tasks, "task_id", task_id, CollectionsAction.CONTACT_RECORD,
                       missing=f"no task {task_id}")  # fmt: skip
    if row.kind != "reminder":
        raise Conflict(
            f"task {task_id} is a {row.kind} task: record the contact instead", field="task_id"
        )
    if row.status != "open":
        raise Conflict(f"task {task_id} is already {row.status}", field="task_id")
    complete(conn, task_id, user.username, body.channel, now())
    conn.commit()
    return _out(one_task(conn, task_id, effective_policy(request)[0], "zh-CN"))
