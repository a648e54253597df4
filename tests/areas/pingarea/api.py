"""The ping area's API route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import Connection, select

from postloan.access.users import User
from postloan.api.deps import get_conn, require
from tests.areas.pingarea.tables import ping_marks

router = APIRouter(prefix="/api/ping", tags=["ping"])


@router.get("/marks")
def marks(
    user: User = Depends(require("ping.view")), conn: Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    rows = conn.execute(select(ping_marks).order_by(ping_marks.c.as_of)).all()
    return [{"as_of": r.as_of.isoformat(), "overdue_accounts": r.overdue_accounts} for r in rows]
