"""Collections' reports over the API: the weekly contact-compliance report and the collection
KPIs of a period (as `postloan report compliance|collections`), each over the caller's scope.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, require
from postloan.api.errors import ERROR_RESPONSES, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import iso
from postloan.collections.actions import CollectionsAction
from postloan.collections.compliance import compliance_report
from postloan.collections.kpis import kpis_for
from postloan.inputs import BusinessDate
from postloan.store.dates import latest_stored_date
from postloan.store.schema import customers

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=ERROR_RESPONSES)


class BelowFloor(BaseModel):
    case_id: int
    customer_id: str
    bucket: str
    floor: int
    contacts: int


class Refused(BaseModel):
    customer_id: str
    at: str
    channel: str
    recorded_by: str
    rules: list[str]
    detail: str


class AboveCap(BaseModel):
    contact_id: int
    customer_id: str
    at: str
    rules: list[str]


class Compliance(BaseModel):
    week_ending: str
    below_floor: list[BelowFloor]
    refused: list[Refused]
    above_cap: list[AboveCap]


@router.get("/compliance", response_model=Compliance)
def compliance(
    request: Request,
    as_of: BusinessDate | None = Query(
        None, description="the week's last day; default the latest run"
    ),
    user: User = Depends(require(CollectionsAction.REPORT_COLLECTIONS)),
    conn: Connection = Depends(get_conn),
) -> Compliance:
    """The contact-compliance report for the 7 days up to `as_of`, over the caller's scope."""
    policy, _ = effective_policy(request)
    day = as_of or latest_stored_date(conn)
    if day is None:
        raise NotFound("no stored status yet: run a date first", field="as_of")
    report = compliance_report(conn, day, policy)
    visible = set(
        conn.execute(
            select(customers.c.customer_id).where(
                customer_scope_clause(user, CollectionsAction.REPORT_COLLECTIONS)
            )
        ).scalars()
    )
    return Compliance(
        week_ending=day.isoformat(),
        below_floor=[BelowFloor(**r) for r in report.below_floor if r["customer_id"] in visible],
        refused=[
            Refused(**{**r, "at": iso(r["at"])})
            for r in report.refused
            if r["customer_id"] in visible
        ],
        above_cap=[
            AboveCap(**{**r, "at": iso(r["at"])})
            for r in report.above_cap
            if r["customer_id"] in visible
        ],
    )


class Kpis(BaseModel):
    from_: str = Field(alias="from")
    to: str
    opening: str
    closing: str
    rows: list[dict[str, Any]] = Field(
        description="level (portfolio | team | collector), key, and the KPI columns "
        "(amounts in minor units, rates as fractions; null when undefined)"
    )
    cure_by_bucket: list[dict[str, Any]]
    strategies: list[dict[str, Any]]


@router.get("/kpis", response_model=Kpis, response_model_by_alias=True)
def kpis(
    request: Request,
    from_: BusinessDate | None = Query(
        None, alias="from", description="default: 29 days before `to`"
    ),
    to: BusinessDate | None = Query(None, description="default: the latest stored date"),
    user: User = Depends(require(CollectionsAction.REPORT_COLLECTIONS)),
    conn: Connection = Depends(get_conn),
) -> Kpis:
    """Collection KPIs for the period (as `postloan report collections`). Head-office roles
    see every line; a branch role the teams and collectors of its branch; a collector their
    own line."""
    policy, _ = effective_policy(request)
    end = to or latest_stored_date(conn)
    if end is None:
        raise NotFound("no stored status yet: run a date first", field="to")
    start = from_ or end - timedelta(days=29)
    result, rows = kpis_for(conn, user, start, end, policy)  # KpiError: 422 naming the bound
    return Kpis.model_validate(
        {"from": start.isoformat(), "to": end.isoformat(),
         "opening": result.opening.isoformat(), "closing": result.closing.isoformat(),
         "rows": rows.to_dicts(), "cure_by_bucket": result.cure_by_bucket.to_dicts(),
         "strategies": result.strategies.to_dicts()}
    )  # fmt: skip
