"""My queue (`/work`): today's open tasks of the customers in the user's `case.view` scope, and
a reminder marked sent in place (htmx swaps the row for the done one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import row_in_scope
from postloan.collections.actions import CollectionsAction
from postloan.collections.queries import TaskItem, one_task, task_queue, tasks_in_scope
from postloan.collections.reminders import complete
from postloan.collections.tables import tasks
from postloan.collections.web.forms import refused, row_key, text
from postloan.errors import NotFoundError
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.web.pages import (
    engine,
    is_htmx,
    lang_of,
    not_found,
    now,
    page_gate,
    policy_of,
    post_gate,
    render_page,
)

router = APIRouter(include_in_schema=False)

QUEUE_LIMIT = 100


@dataclass
class Queue:
    as_of: date | None
    total: int
    items: list[TaskItem]


def queue(conn: Connection, user: User, policy: Policy, lang: str) -> Queue:
    """Today's open tasks of the customers in the user's `case.view` scope: every open task
    whose window has begun by the latest business date (late ones included — still owed),
    the highest case priority first, then the earliest due (the API's queue order)."""
    as_of = latest_stored_date(conn)
    if as_of is None:
        return Queue(None, 0, [])
    where: list[Any] = [
        tasks.c.status == "open",
        tasks.c.window_start <= as_of,
        tasks_in_scope(user, CollectionsAction.CASE_VIEW),
    ]
    total, items = task_queue(conn, where, policy, lang, QUEUE_LIMIT)
    return Queue(as_of, total, items)


@router.get("/work", response_class=HTMLResponse)
def work_queue(request: Request) -> Response:
    user, gated = page_gate(request, CollectionsAction.CASE_VIEW)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        mine = queue(conn, user, policy_of(request), lang_of(request))
    return render_page(
        request,
        "collections/work.html",
        {"queue": mine, "limit": QUEUE_LIMIT,
         "as_of_iso": mine.as_of.isoformat() if mine.as_of else "",
         "done": request.query_params.get("done"),
         "may_complete": can(user.role, CollectionsAction.CONTACT_RECORD)},
        user=user,
    )  # fmt: skip


@router.post("/work/tasks/{task_id}/complete", response_class=HTMLResponse)
async def complete_task(request: Request, task_id: str) -> Response:
    """Mark a reminder sent by phone or SMS; htmx swaps the row for the done one."""
    user, gated = await post_gate(request, CollectionsAction.CONTACT_RECORD)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    channel = text(form, "channel")
    key = row_key(task_id)

    def work() -> Response:
        if key is None:
            return not_found(request, user)
        policy = policy_of(request)
        with engine(request).begin() as conn:
            try:
                row = row_in_scope(conn, user, tasks, "task_id", key,
                                   CollectionsAction.CONTACT_RECORD)  # fmt: skip
            except NotFoundError:
                return not_found(request, user)
            if row.kind != "reminder":
                return refused(
                    request,
                    user,
                    409,
                    f"task {key}: a {row.kind} task is done by recording the contact",
                )
            if row.status != "open":
                return refused(request, user, 409, f"task {key}: already {row.status}")
            if channel not in ("phone", "sms"):
                return refused(
                    request, user, 422, f"channel: a reminder goes by phone or sms, not {channel!r}"
                )
            complete(conn, key, user.username, channel, now())
            task = one_task(conn, key, policy, lang_of(request))
        if not is_htmx(request):
            return RedirectResponse("/work?done=task", status_code=303)
        return render_page(request, "collections/task_row.html",
                           {"task": task, "may_complete": True}, user=user)  # fmt: skip

    return await run_in_threadpool(work)
