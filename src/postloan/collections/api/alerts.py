"""Risk alerts over the API (OD-7: an `asset_transfer` of a customer in collections, raised
by the daily rating): the list over the caller's scope, and acknowledging one (audited). An
alert of a customer outside the caller's scope answers 404, like one that does not exist.
OpenAPI tag "casework", like the case list (`collections.api.cases`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, func, select

from postloan.access import audit
from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, Conflict
from postloan.api.util import NO_NUL, Page, iso
from postloan.collections.actions import CollectionsAction
from postloan.collections.casework_tables import alerts
from postloan.inputs import BusinessDate, RowId
from postloan.store.schema import customers

router = APIRouter(prefix="/api", tags=["casework"], responses=ERROR_RESPONSES)


class Alert(BaseModel):
    alert_id: int
    kind: str = Field(description="asset_transfer")
    customer_id: str
    event_id: str
    event_date: str
    raised_on: str
    detail: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None


class AlertPage(Page):
    items: list[Alert]


def _alert(row: Any) -> Alert:
    return Alert(
        alert_id=row.alert_id, kind=row.kind, customer_id=row.customer_id,
        event_id=row.event_id, event_date=iso(row.event_date) or "",
        raised_on=iso(row.raised_on) or "", detail=row.detail,
        acknowledged_by=row.acknowledged_by, acknowledged_at=iso(row.acknowledged_at),
    )  # fmt: skip


_IN_SCOPE = alerts.join(customers, customers.c.customer_id == alerts.c.customer_id)


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    acknowledged: bool | None = Query(False, description="omit for both"),
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    raised_from: BusinessDate | None = None,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.ALERT_VIEW)),
    conn: Connection = Depends(get_conn),
) -> AlertPage:
    """Risk alerts of customers in the caller's scope, newest first (default: not yet
    acknowledged)."""
    where = [customer_scope_clause(user, CollectionsAction.ALERT_VIEW)]
    if acknowledged is not None:
        done = alerts.c.acknowledged_at.is_not(None)
        where.append(done if acknowledged else ~done)
    if customer_id is not None:
        where.append(alerts.c.customer_id == customer_id)
    if raised_from is not None:
        where.append(alerts.c.raised_on >= raised_from)
    clause = and_(*where)
    total = conn.execute(select(func.count()).select_from(_IN_SCOPE).where(clause)).scalar_one()
    rows = conn.execute(
        select(alerts)
        .select_from(_IN_SCOPE)
        .where(clause)
        .order_by(alerts.c.raised_on.desc(), alerts.c.alert_id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return AlertPage(items=[_alert(r) for r in rows], total=total, page=page,
                     page_size=page_size)  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", response_model=Alert)
def acknowledge_alert(
    alert_id: RowId,
    user: User = Depends(require(CollectionsAction.ALERT_VIEW)),
    conn: Connection = Depends(get_conn),
) -> Alert:
    """The caller has seen the alert and taken it on (audited)."""
    row = row_in_scope(conn, user, alerts, "alert_id", alert_id, CollectionsAction.ALERT_VIEW,
                       missing=f"no alert {alert_id}")  # fmt: skip
    if row.acknowledged_at is not None:
        raise Conflict(
            f"alert {alert_id} was acknowledged by {row.acknowledged_by}", field="alert_id"
        )
    at = now()
    taken = conn.execute(
        alerts.update()
        .where(alerts.c.alert_id == alert_id, alerts.c.acknowledged_at.is_(None))
        .values(acknowledged_by=user.username, acknowledged_at=at)
    ).rowcount
    if taken != 1:  # someone else acknowledged it meanwhile
        raise Conflict(f"alert {alert_id} was acknowledged meanwhile", field="alert_id")
    audit.record(
        conn, actor=user.username, action="alert.acknowledge", target_type="customer",
        target_id=row.customer_id, detail={"alert_id": alert_id, "kind": row.kind,
                                           "event_id": row.event_id}, now=at,
    )  # fmt: skip
    conn.commit()
    done = conn.execute(select(alerts).where(alerts.c.alert_id == alert_id)).one()
    return _alert(done)
