"""Validation of a behaviour or churn model on the store's history as a job, not a request.

Measuring a model on the history means rebuilding every monthly snapshot's characteristics
for the whole portfolio (`behaviour.measure_on_history`: 45 s on a 5 000-account demo, far more
at 1M) — work no HTTP request may do (it would hold a worker and a connection for minutes, and
anyone holding `risk.model_manage` could start it again and again). Nor can it be read from
what the daily run stores: a draft has never scored (only the approved model does), so no
stored score or bin count belongs to it. So:

- **the request** (`request`, `POST /api/risk/models/{id}/validate`) checks what is cheap —
  the model exists, is a draft of a kind measured on the history, records its training window
  (and a churn model its horizon, a behaviour model the policy's target) — and records a
  request (`risk_model_validations`, status `queued`), audited `risk.model.validate_request`.
  One request per model is open at a time (a unique key): asking again answers the open one;
- **the job** (`run_pending`, `postloan model run-validations`, run after the daily run like any
  batch job) claims the requests one at a time (`running`), measures each on the history in
  its own read transaction, and records the outcome: the model validated by the requester
  (`registry.validate` with the measured figures — the same rules, the same audit entry
  `risk.model.validate`, naming the request and who ran the job), the request `done` with the
  validation; or the request `failed` with the reason (training window not reproduced, no
  out-of-time month with both outcomes, AUC under the policy's minimum …), audited
  `risk.model.validate_failed`;
- **the answer** (`requests`, `GET /api/risk/models/{id}/validations`) is read from the table.

A job that died leaves its request `running`; a later job takes it over after `STALE` (no
validation takes that long). The policy is the one in force when the job runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from postloan.access import audit
from postloan.errors import ConflictError, DomainError
from postloan.policy import Policy
from postloan.risk import registry
from postloan.risk.model_tables import risk_model_validations as v

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STALE = timedelta(hours=6)
MAX_LISTED = 20


def describe(found: Any) -> dict[str, Any]:
    """A request as the API and the CLI show it."""
    from postloan.store.values import as_utc

    def instant(value: Any) -> str | None:
        moment = as_utc(value)
        return None if moment is None else moment.isoformat()

    return {
        "request_id": int(found.request_id), "model_id": found.model_id,
        "status": found.status, "note": found.note, "requested_by": found.requested_by,
        "requested_at": instant(found.requested_at), "run_by": found.run_by,
        "started_at": instant(found.started_at), "finished_at": instant(found.finished_at),
        "validation": None if found.result is None else json.loads(found.result),
        "error": found.error,
    }  # fmt: skip


def _open(conn: Connection, mid: str) -> Any:
    return conn.execute(select(v).where(v.c.open_model_id == mid)).first()


def request(conn: Connection, policy: Policy, mid: str, note: str, actor: str,
            now: datetime) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """Record a validation request for a draft behaviour or churn model (the cheap checks
    first: `ConflictError` as `registry.validate` would answer). Returns the request and
    whether it is new (False: the model's open request, unchanged)."""
    from postloan.risk.behaviour import check_measurable

    found = registry.row(conn, mid)
    if found.status != "draft":
        raise ConflictError(f"model {mid} is {found.status}: only a draft is validated")
    text = registry.note_text(note)
    if found.kind not in registry.HISTORY_KINDS:
        raise ConflictError(
            f"model {mid} is a {found.kind} model: its out-of-time metrics are measured on "
            "held-out data (postloan model validate --data FILE), not taken from its file"
        )
    check_measurable(policy, registry.stored_model(found), found.kind)
    existing = _open(conn, mid)
    if existing is not None:
        return describe(existing), False
    try:
        with conn.begin_nested():
            done = conn.execute(
                insert(v).values(model_id=mid, status=QUEUED, note=text, requested_by=actor,
                                 requested_at=now, open_model_id=mid)
                .returning(v.c.request_id)
            ).scalar_one()  # fmt: skip
    except IntegrityError:  # another request for this model was recorded meanwhile
        existing = _open(conn, mid)
        if existing is None:
            raise ConflictError(f"model {mid}: its validation request changed meanwhile") from None
        return describe(existing), False
    audit.record(conn, actor=actor, action="risk.model.validate_request", target_type="model",
                 target_id=mid, now=now,
                 detail={"request_id": int(done), "note": text})  # fmt: skip
    return describe(conn.execute(select(v).where(v.c.request_id == done)).one()), True


def requests(conn: Connection, mid: str) -> list[dict[str, Any]]:
    """The model's validation requests, newest first (at most `MAX_LISTED`)."""
    registry.row(conn, mid)  # 404 for an unknown model
    rows = conn.execute(
        select(v).where(v.c.model_id == mid).order_by(v.c.request_id.desc()).limit(MAX_LISTED)
    ).all()
    return [describe(r) for r in rows]


def _claim(conn: Connection, operator: str, now: datetime) -> Any:
    """The oldest queued request (or one a dead job left running), marked running; None."""
    waiting = or_(v.c.status == QUEUED, and_(v.c.status == RUNNING, v.c.started_at < now - STALE))
    found = conn.execute(select(v).where(waiting).order_by(v.c.request_id).limit(1)).first()
    if found is None:
        return None
    taken = conn.execute(
        update(v).where(v.c.request_id == found.request_id, v.c.status == found.status,
                        waiting)
        .values(status=RUNNING, run_by=operator, started_at=now)
    ).rowcount  # fmt: skip
    return found if taken == 1 else _claim(conn, operator, now)  # taken by another job: next


def _finish(conn: Connection, request_id: int, status: str, now: datetime,
            result: dict[str, Any] | None = None, error: str | None = None) -> None:  # fmt: skip
    conn.execute(
        update(v).where(v.c.request_id == request_id)
        .values(status=status, finished_at=now, open_model_id=None,
                result=None if result is None else json.dumps(result), error=error)
    )  # fmt: skip


def run_pending(engine: Engine, policy: Policy, operator: str, clock: Callable[[], datetime],
                limit: int = 10) -> list[dict[str, Any]]:  # fmt: skip
    """Measure up to `limit` open requests, one at a time, each in its own transactions
    (claimed, measured on a read transaction, recorded). Returns the finished requests."""
    from postloan.risk.behaviour import measure_on_history

    finished = []
    for _ in range(limit):
        with engine.begin() as conn:
            job = _claim(conn, operator, clock())
        if job is None:
            break
        extra = {"request_id": int(job.request_id), "run_by": operator}
        try:
            with engine.connect() as conn:
                found = registry.row(conn, job.model_id)
                if found.status != "draft":
                    raise ConflictError(f"model {job.model_id} is {found.status} now: only a "
                                        "draft is validated")  # fmt: skip
                evidence = measure_on_history(conn, policy, registry.stored_model(found),
                                              found.kind)  # fmt: skip
            with engine.begin() as conn:
                recorded = registry.validate(conn, policy, job.model_id, job.note,
                                             job.requested_by, clock(), evidence,
                                             audit_extra=extra)  # fmt: skip
                _finish(conn, job.request_id, DONE, clock(), result=recorded)
        except DomainError as exc:
            with engine.begin() as conn:
                _finish(conn, job.request_id, FAILED, clock(), error=str(exc))
                audit.record(conn, actor=job.requested_by, action="risk.model.validate_failed",
                             target_type="model", target_id=job.model_id, now=clock(),
                             detail={**extra, "error": str(exc)})  # fmt: skip
        except Exception as exc:  # a fault, not a verdict: recorded, then raised for the operator
            with engine.begin() as conn:
                _finish(
                    conn,
                    job.request_id,
                    FAILED,
                    clock(),
                    error=f"the validation job stopped ({type(exc).__name__}); ask again",
                )
            raise
        with engine.connect() as conn:
            finished.append(describe(conn.execute(
                select(v).where(v.c.request_id == job.request_id)).one()))  # fmt: skip
    return finished
