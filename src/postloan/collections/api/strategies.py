"""Champion vs challenger over the API (OD-9): the stage spells entered in a period by
strategy, with their cure and recovery rates, over the customers in the caller's scope.
OpenAPI tag "casework", like the case list (`collections.api.cases`).
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, require
from postloan.api.errors import ERROR_RESPONSES, Invalid
from postloan.api.util import amount
from postloan.collections.actions import CollectionsAction
from postloan.collections.strategies import strategy_results
from postloan.inputs import BusinessDate
from postloan.store.dates import latest_stored_date

router = APIRouter(prefix="/api", tags=["casework"], responses=ERROR_RESPONSES)


class StrategyResult(BaseModel):
    stage: str
    strategy: str
    arm: str = Field(description="champion | challenger")
    spells: int = Field(description="stage entries in the period on this strategy")
    cured: int = Field(description="...that ended with the case cured")
    cure_rate: float
    overdue_at_entry: str = Field(description="overdue amount when they entered the stage")
    recovered: str = Field(description="paid during the spells, at most the overdue at entry")
    recovery_rate: float | None


class StrategyResults(BaseModel):
    date_from: str
    date_to: str
    items: list[StrategyResult]


DEFAULT_PERIOD_DAYS = 90  # a quarter: long enough for early-stage spells to end


@router.get("/strategies/results", response_model=StrategyResults)
def compare_strategies(
    date_from: BusinessDate | None = Query(None, description="default: 90 days before date_to"),
    date_to: BusinessDate | None = Query(
        None, description="default: the latest stored status date"
    ),
    user: User = Depends(require(CollectionsAction.REPORT_COLLECTIONS)),
    conn: Connection = Depends(get_conn),
) -> StrategyResults:
    """Champion vs challenger (OD-9): stage spells entered in the period by strategy — cure
    rate and recovery rate, over the customers in the caller's scope."""
    end = date_to or latest_stored_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or end - timedelta(days=DEFAULT_PERIOD_DAYS)  # BusinessDate: no overflow
    if start > end:
        raise Invalid("date_from: must be on or before date_to", field="date_from")
    scope = customer_scope_clause(user, CollectionsAction.REPORT_COLLECTIONS)
    frame = strategy_results(conn, start, end, scope)
    items = [
        StrategyResult(
            stage=r["stage"], strategy=r["strategy"], arm=r["arm"], spells=r["spells"],
            cured=r["cured"], cure_rate=r["cure_rate"],
            overdue_at_entry=amount(r["overdue_at_entry"]) or "0.00",
            recovered=amount(r["recovered"]) or "0.00", recovery_rate=r["recovery_rate"],
        )
        for r in frame.iter_rows(named=True)
    ]  # fmt: skip
    return StrategyResults(date_from=start.isoformat(), date_to=end.isoformat(), items=items)
