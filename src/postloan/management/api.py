"""Management reporting's API routes (`/api/management/...`): the portfolio pack for a period,
the accounts behind one of its figures (any stored date), the pack as an Excel workbook, and
the policy what-if (`POST /whatif`, the candidate policy's TOML in the body).

Figures are computed in the caller's data scope for the route's action (a branch role gets its
branch's pack). The drill-down lists account ids, DPD, class and balances — no personal field —
and is audited, as is every export and what-if. All routes read; nothing is stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from postloan.access import audit
from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, get_engine, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL
from postloan.inputs import BusinessDate
from postloan.management import area_drill, packs, printable, report, service, whatif
from postloan.management.actions import ManagementAction
from postloan.management.export import workbook_bytes
from postloan.management.rules.pack import DIMENSIONS

router = APIRouter(prefix="/api/management", tags=["management"], responses=ERROR_RESPONSES)

Dimension = Literal[DIMENSIONS]  # type: ignore[valid-type]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PackOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    months: list[dict[str, Any]] = Field(description="month (YYYY-MM) and its last stored date")
    runs: dict[str, list[int]] = Field(description="per month: the runs of its status rows")
    policy_version: str
    definitions_version: str = Field(description="hash of every KPI definition (口径)")
    definitions: dict[str, dict[str, Any]]
    figures: list[dict[str, Any]] = Field(
        description="per month-end, dimension and value: accounts, balances (minor units), each "
        "KPI's numerator, denominator and ratio, C→M1 and cure rates, disbursement, recoveries"
    )
    roll: list[dict[str, Any]] = Field(description="roll-rate (迁徙) matrix cells")
    vintage: list[dict[str, Any]]
    dormant: list[dict[str, Any]]
    staff: list[dict[str, Any]] = Field(description="branches and officers against targets")
    left_out: list[str] = Field(description="figures not in the pack yet")
    area_definitions: dict[str, dict[str, Any]] = Field(
        description="other areas' KPI definitions (churn, relationship, collections), each "
        "naming its area and version"
    )
    area_figures: list[dict[str, Any]] = Field(
        description="other areas' figures: per month, KPI, dimension and value the numerator, "
        "denominator, ratio (an interval where the figure has one) and definition_version"
    )


class DrillOut(BaseModel):
    as_of: str
    dimension: str
    value: str
    kpi: str
    definition_version: int
    definitions_version: str
    runs: list[int]
    numerator: int = Field(description="the sum of `counted`: the cell's numerator")
    accounts: list[dict[str, Any]]


def _pack(
    request: Request,
    conn: Connection,
    user: User,
    start: date | None,
    end: date | None,
    action: ManagementAction,
) -> service.Pack:
    """The pack for [start, end]; by default the twelve months up to the latest stored date."""
    policy, _ = effective_policy(request)
    end = end or service.latest_date(conn)
    if end is None:
        raise service.PackError("no stored status yet: run a date first", field="to")
    start = start or date(end.year - 1, end.month, 1) + timedelta(days=31)
    start = min(date(start.year, start.month, 1), end)
    return service.build(conn, policy, start, end, customer_scope_clause(user, action))


@router.get("/pack", response_model=PackOut, response_model_by_alias=True)
def pack(
    request: Request,
    date_from: BusinessDate | None = Query(
        None, alias="from", description="first month's date (default: 12 months up to to)"
    ),
    date_to: BusinessDate | None = Query(
        None, alias="to", description="last date (default: the latest stored)"
    ),
    dimension: list[Dimension] | None = Query(None, description="breakdowns (default: all)"),
    user: User = Depends(require(ManagementAction.PACK)),
    conn: Connection = Depends(get_conn),
) -> PackOut:
    """The portfolio pack: each month's last stored date in [from, to], in the caller's scope."""
    built = _pack(request, conn, user, date_from, date_to, ManagementAction.PACK)
    dims = tuple(dimension) if dimension else None
    return PackOut.model_validate(report.as_data(built, dims))


@router.get(
    "/pack.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the workbook"}},
)
def pack_xlsx(
    request: Request,
    date_from: BusinessDate | None = Query(None, alias="from"),
    date_to: BusinessDate | None = Query(None, alias="to"),
    user: User = Depends(require(ManagementAction.EXPORT)),
    conn: Connection = Depends(get_conn),
) -> Response:
    """The pack as an Excel workbook: a sheet per breakdown, formatted (audited)."""
    built = _pack(request, conn, user, date_from, date_to, ManagementAction.EXPORT)
    body = workbook_bytes(built)
    audit.record(
        conn,
        actor=user.username,
        action="export",
        target_type="management_pack",
        target_id=f"{date_from}..{date_to}",
        detail={
            "format": "xlsx",
            "definitions_version": built.definitions_version,
            "runs": built.runs,
        },
        now=now(),
    )
    conn.commit()
    name = f"management-pack-{built.date_from}-{built.date_to}.xlsx"
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/drill", response_model=DrillOut)
def drill(
    request: Request,
    as_of: BusinessDate | None = Query(None, description="any stored date (default: latest)"),
    kpi: str = Query("npl_ratio", min_length=1, max_length=40, pattern=NO_NUL),
    dimension: Dimension = Query("portfolio"),
    value: str = Query("all", min_length=1, max_length=64, pattern=NO_NUL),
    user: User = Depends(require(ManagementAction.DRILL)),
    conn: Connection = Depends(get_conn),
) -> DrillOut:
    """The accounts behind one figure: those in the KPI's numerator on `as_of` whose
    `dimension` is `value`, each with what it adds; they sum to the figure's numerator."""
    policy, _ = effective_policy(request)
    day = as_of or service.latest_date(conn)
    if day is None:
        raise service.PackError("no stored status yet: run a date first", field="as_of")
    found = service.audited_drill(
        conn,
        policy,
        day,
        (dimension, value, kpi),
        customer_scope_clause(user, ManagementAction.DRILL),
        user.username,
        now(),
    )
    conn.commit()
    return DrillOut.model_validate(found)


class AreaDrillOut(BaseModel):
    as_of: str
    kpi: str
    area: str = Field(
        description="the area whose figure it is (churn, relationship, collections): its "
        "`Area.kpi_drill` hook listed the rows"
    )
    dimension: str
    value: str
    definition_version: int = Field(description="the area definition's version")
    unit: str = Field(
        description="what the rows are: customers, accounts, complaints, answers, promises, "
        "contacts or costs"
    )
    numerator: int = Field(description="the sum of `counted`: the cell's numerator")
    denominator: int | None = Field(
        description="the cell's denominator where the area gives it with the rows"
    )
    columns: list[str] = Field(description="the rows' columns in order (`counted` last)")
    amounts: list[str] = Field(description="the columns in minor units (分)")
    rows: list[dict[str, Any]]


@router.get("/drill/area", response_model=AreaDrillOut)
def drill_area(
    request: Request,
    as_of: BusinessDate | None = Query(
        None, description="the figure's date (its `as_of` in area_figures; default: latest)"
    ),
    kpi: str = Query("churn_any_customers", min_length=1, max_length=40, pattern=NO_NUL),
    dimension: Literal["portfolio", "branch", "team", "collector", "bucket"] = Query(
        "portfolio", description="the breakdown the area gives the figure by"
    ),
    value: str = Query("all", min_length=1, max_length=64, pattern=NO_NUL),
    user: User = Depends(require(ManagementAction.DRILL)),
    conn: Connection = Depends(get_conn),
) -> AreaDrillOut:
    """The rows behind one of the other areas' figures in the pack (churn customers,
    complaints, survey answers, collections' accounts, promises, contacts and costs), listed
    by the owning area's `Area.kpi_drill` hook, each with what it adds; they sum to the
    figure (audited)."""
    policy, _ = effective_policy(request)
    day = as_of or service.latest_date(conn)
    if day is None:
        raise service.PackError("no stored status yet: run a date first", field="as_of")
    found = area_drill.audited(
        conn,
        policy,
        (day, kpi, dimension, value),
        customer_scope_clause(user, ManagementAction.DRILL),
        user.username,
        now(),
    )
    conn.commit()
    return AreaDrillOut.model_validate(found)


class WhatIfOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    dates: list[str] = Field(description="the stored dates replayed")
    in_force_version: str
    candidate_version: str
    stored: list[dict[str, Any]] = Field(description="per date: stored runs, policy versions")
    figures: list[dict[str, Any]] = Field(
        description="per area and figure: keys, columns (v_in_force, v_candidate, v_diff), "
        "rows; amounts in minor units"
    )
    notes: dict[str, list[str]] = Field(description="per area: what was assumed or left out")
    not_replayed: list[str] = Field(description="areas without a what-if")


TOML_BODY = {
    "requestBody": {
        "required": True,
        "description": "the candidate policy file: TOML text, UTF-8, at most 256 KB (sent as"
        " text/plain or application/toml)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/whatif", response_model=WhatIfOut, response_model_by_alias=True, openapi_extra=TOML_BODY
)
async def what_if(
    request: Request,
    date_from: BusinessDate = Query(alias="from", description="first stored date to replay"),
    date_to: BusinessDate = Query(alias="to", description="last stored date to replay"),
    user: User = Depends(require(ManagementAction.WHATIF)),
    engine: Engine = Depends(get_engine),
) -> WhatIfOut:
    """Policy what-if: the stored history of [from, to] replayed under the candidate policy in
    the body beside the policy in force — classes, NPL ratio, buckets, collection cases and
    team workload, tiers, risk grades and signals. Nothing stored changes; audited."""
    body = await request.body()
    candidate = whatif.parse_candidate(body, "request body")  # PolicyError → 422 naming it
    in_force, _ = effective_policy(request)
    url = request.app.state.url

    def work() -> whatif.WhatIf:
        with engine.connect() as conn:
            return whatif.served(conn, url, in_force, candidate, date_from, date_to,
                                 user.username, "api")  # fmt: skip

    found = await run_in_threadpool(work)
    return WhatIfOut.model_validate(whatif.as_data(found))


class StoredPack(BaseModel):
    month: str
    lang: str
    as_of: str = Field(description="the month-end the pack was built on")
    policy_version: str
    definitions_version: str
    run_id: int = Field(description="the daily run that stored it")
    created_at: str


@router.get("/packs", response_model=list[StoredPack])
def stored_packs(
    user: User = Depends(require(ManagementAction.EXPORT)),
    conn: Connection = Depends(get_conn),
) -> list[StoredPack]:
    """The printable monthly packs the daily run stored (one per month and language, whole
    book), newest first."""
    return [StoredPack.model_validate(p) for p in packs.listed(conn)]


@router.get(
    "/packs/{month}",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "the printable pack"}},
)
def stored_pack(
    month: str = Path(..., pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$"),
    lang: Literal[printable.LANGS] = Query("zh-CN"),  # type: ignore[valid-type]
    user: User = Depends(require(ManagementAction.EXPORT)),
    conn: Connection = Depends(get_conn),
) -> Response:
    """One stored monthly pack as an HTML document (print CSS and SVG charts inside; audited
    as an export)."""
    body = packs.html_of(conn, month, lang)
    audit.record(
        conn,
        actor=user.username,
        action="export",
        target_type="management_pack",
        target_id=f"{month}/{lang}",
        detail={"format": "html", "stored": True},
        now=now(),
    )
    conn.commit()
    name = f"management-pack-{month}-{lang}.html"
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "content-security-policy": printable.content_security_policy(),
        },
    )
