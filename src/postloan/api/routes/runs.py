"""Runs: start a daily run or a backfill (in the background), list them, follow one; delete
the latest stored business date (`runs.stored_dates`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, func, select

from postloan.access import audit
from postloan.access.permissions import Action
from postloan.access.times import from_db
from postloan.access.users import User
from postloan.api.deps import get_conn, get_engine, now, require
from postloan.api.errors import ERROR_RESPONSES, Conflict, Invalid, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import Page, as_date
from postloan.inputs import BusinessDate, RowId
from postloan.runs.liveness import fail_abandoned_runs
from postloan.runs.service import date_range
from postloan.runs.stored_dates import DateNotDeletable, delete_latest_date
from postloan.runs.window import RunDateError, check_run_dates
from postloan.store.schema import runs

router = APIRouter(prefix="/api/runs", tags=["runs"], responses=ERROR_RESPONSES)

MAX_DATES = 1096  # three years of business dates in one backfill


class RunIn(BaseModel):
    """Either `as_of` (a daily run) or `from` and `to` (a backfill, inclusive)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    as_of: BusinessDate | None = None
    from_: BusinessDate | None = Field(None, alias="from")
    to: BusinessDate | None = None


class Progress(BaseModel):
    dates_done: int
    dates_total: int


class RunOut(BaseModel):
    run_id: int
    kind: str
    date_from: date
    date_to: date
    policy_version: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    rows: int | None = None
    timings: dict[str, Any] | None = None
    error: str | None = None
    progress: Progress


class RunPage(Page):
    items: list[RunOut]


class Started(BaseModel):
    run_id: int
    dates: int


def _dates(body: RunIn) -> list[date]:
    if body.as_of is not None:
        if body.from_ is not None or body.to is not None:
            raise Invalid("give either as_of, or from and to — not both", field="as_of")
        return [body.as_of]
    if body.from_ is None:
        raise Invalid("give as_of, or from and to", field="from" if body.to else "as_of")
    if body.to is None:
        raise Invalid("a backfill needs to as well as from", field="to")
    if body.to < body.from_:
        raise Invalid("to is before from", field="to")
    days = (body.to - body.from_).days + 1
    if days > MAX_DATES:
        raise Invalid(f"to: at most {MAX_DATES} dates in one run (asked {days})", field="to")
    return date_range(body.from_, body.to)


@router.post("", response_model=Started, status_code=202)
def start_run(
    request: Request,
    body: RunIn = Body(
        examples=[{"as_of": "2026-06-30"}, {"from": "2026-06-01", "to": "2026-06-30"}]
    ),
    user: User = Depends(require(Action.RUN_START)),
    engine: Engine = Depends(get_engine),
) -> Started:
    """Start computing account status for the dates under the effective policy; returns at
    once with the run id (409 while another API run is in progress). Dates outside the
    policy's window (`security.run_dates`) are refused with 422 before anything starts."""
    dates = _dates(body)
    policy, _ = effective_policy(request)
    fields = ("as_of", "as_of") if body.as_of is not None else ("from", "to")
    with engine.connect() as conn:
        try:
            check_run_dates(conn, dates[0], dates[-1], policy, fields)
        except RunDateError as exc:
            raise Invalid(str(exc), field=exc.field) from None
    run_id = request.app.state.runs.start(request.app.state.url, engine, dates, policy)
    with engine.connect() as conn:
        audit.record(
            conn, actor=user.username, action="run.start", target_type="run",
            target_id=str(run_id),
            detail={"from": dates[0].isoformat(), "to": dates[-1].isoformat(),
                    "policy_version": policy.version},
            now=now(),
        )  # fmt: skip
        conn.commit()
    return Started(run_id=run_id, dates=len(dates))


def _run_out(request: Request, row: Any) -> RunOut:
    values = dict(row._mapping)
    for key in ("started_at", "finished_at"):  # SQLite keeps them naive; they are UTC
        values[key] = from_db(values[key])
    first, last = as_date(values["date_from"]), as_date(values["date_to"])
    assert first is not None and last is not None
    total = (last - first).days + 1
    job = request.app.state.runs.progress(values["run_id"])
    if values["status"] == "succeeded":
        done = total
    elif job is not None:
        done, total = job.dates_done, job.dates_total
    else:
        done = 0
    return RunOut(**values, progress=Progress(dates_done=done, dates_total=total))


@router.get("", response_model=RunPage)
def list_runs(
    request: Request,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(20, ge=1, le=200),
    _user: User = Depends(require(Action.RUN_VIEW)),
    conn: Connection = Depends(get_conn),
) -> RunPage:
    """Runs, newest first (a run whose process died is shown failed: see `runs.liveness`)."""
    fail_abandoned_runs(request.app.state.url)
    total = conn.execute(select(func.count()).select_from(runs)).scalar_one()
    rows = conn.execute(
        select(runs).order_by(runs.c.run_id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    items = [_run_out(request, row) for row in rows]
    return RunPage(items=items, total=total, page=page, page_size=page_size)


@router.get("/{run_id}", response_model=RunOut)
def get_run(
    request: Request,
    run_id: RowId,
    _user: User = Depends(require(Action.RUN_VIEW)),
    conn: Connection = Depends(get_conn),
) -> RunOut:
    """One run: status, and progress (dates done / total) while it runs."""
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    if row is None:
        raise NotFound(f"no run {run_id}", field="run_id")
    return _run_out(request, row)


class DeletedDate(BaseModel):
    as_of: date
    rows: int = Field(description="account-status rows deleted")
    run_id: int = Field(description="the `delete` record in the runs list")
    latest: date | None = Field(description="the latest stored date now")


@router.delete("/dates/{as_of}", response_model=DeletedDate)
def delete_date(
    request: Request,
    as_of: date,
    user: User = Depends(require(Action.RUN_START)),
) -> DeletedDate:
    """Delete the latest stored business date: its account status and what the runs derived
    from it (cases are rebuilt from the date before). 404 when it is not stored, 409 when a
    later date is (delete newest first). Audited. Any calendar date is accepted here: the one
    to delete may be a far-future typo that new runs are refused."""
    policy, _ = effective_policy(request)
    try:
        deleted = delete_latest_date(request.app.state.url, as_of, policy, user.username, now())
    except DateNotDeletable as exc:
        kind = Conflict if exc.stored else NotFound
        raise kind(str(exc), field="as_of") from None
    return DeletedDate(as_of=deleted.as_of, rows=deleted.rows, run_id=deleted.run_id,
                       latest=deleted.latest)  # fmt: skip
