"""The satisfaction page (`/surveys`): CSAT and NPS with their intervals by branch and month
for a period (the report the API and the CLI serve, scoped), the response rate per invitation
wave, the invitations (answered or not), the feedback to the departments (each dimension's
CSAT by month or quarter with the change, low-score comments masked, open follow-ups), the
questionnaire versions, and for `survey.manage` holders a response form (`POST
/surveys/responses`, walk-in or answering an invitation, with a comment), a CSV import (`POST
/surveys/import`, all or nothing, the first bad line named) and a follow-up's closing form
(`POST /surveys/followup`) — CSRF-checked by `post_gate`, through the services the API
uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from postloan.access import User, can
from postloan.access.scope import customer_scope_clause, row_in_scope, visible_customer
from postloan.calendar import PRC_TZ
from postloan.errors import ConflictError, DomainError, NotFoundError
from postloan.inputs import InputError, parse_business_date
from postloan.relationship import feedback, surveys
from postloan.relationship.actions import RelAction
from postloan.relationship.report import MAX_DAYS, satisfaction_report
from postloan.relationship.tables import (
    survey_followups,
    survey_invitations,
    survey_responses,
    survey_versions,
)
from postloan.store.schema import customers
from postloan.web.pages import (
    engine,
    not_found,
    now,
    page_gate,
    policy_of,
    post_gate,
    render_page,
)

router = APIRouter(include_in_schema=False)
PAGE = "relationship/surveys.html"
MAX_FILE = 1_000_000  # bytes: 5000 rows of a few columns fit easily


def _context(conn: Connection, request: Request, user: User) -> dict[str, Any]:
    today = now().astimezone(PRC_TZ).date()
    q = request.query_params
    try:
        end = parse_business_date(q["to"], "to") if q.get("to") else today
        start = parse_business_date(q["from"], "from") if q.get("from") else end - timedelta(365)
        if start > end or (end - start).days > MAX_DAYS:
            raise InputError("from", f"before 'to' and at most {MAX_DAYS} days earlier")
        error = None
    except InputError as exc:
        start, end, error = today - timedelta(365), today, str(exc)
    scope = customer_scope_clause(user, RelAction.VIEW)
    report = satisfaction_report(conn, policy_of(request), start, end, scope)
    by = "quarter" if q.get("by") == "quarter" else "month"
    departments = feedback.department_report(
        conn, policy_of(request), start, end, by, scope, user.role
    )
    versions = conn.execute(
        select(survey_versions.c.version_id, survey_versions.c.name).order_by(
            survey_versions.c.version_id.desc()
        )
    ).all()
    i, r = survey_invitations.c, survey_responses.c
    invitations = conn.execute(
        select(survey_invitations, r.response_id)
        .join(customers, customers.c.customer_id == i.customer_id)
        .outerjoin(survey_responses, r.invitation_id == i.invitation_id)
        .where(scope)
        .order_by(i.invited_on.desc(), i.invitation_id)
        .limit(100)
    ).all()
    return {
        "report": report,
        "departments": departments,
        "invitations": invitations,
        "versions": versions,
        "today": today.isoformat(),
        "may_enter": can(user.role, RelAction.SURVEY),
        "error": error,
    }


@router.get("/surveys", response_class=HTMLResponse)
def surveys_page(request: Request) -> Response:
    user, gated = page_gate(request, RelAction.VIEW)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        context = _context(conn, request, user)
    return render_page(request, PAGE, context, user=user)


def _int(form: dict[str, str], name: str, low: int, high: int) -> int:
    value = form.get(name, "")
    if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
        raise InputError(name, f"a whole number from {low} to {high}")
    return int(value)


@router.post("/surveys/{what}", response_class=HTMLResponse)
async def enter(request: Request, what: str) -> Response:
    user, gated = await post_gate(request, RelAction.SURVEY)
    if gated:
        return gated
    assert user is not None
    raw = await request.form()
    long = {"comment", "note"}  # free text: the services refuse more than 2000 characters
    form = {
        k: str(v).replace("\x00", "").strip()[: 2001 if k in long else 200]
        for k, v in raw.items()
        if isinstance(v, str)
    }
    at = now()
    day = at.astimezone(PRC_TZ).date()
    with engine(request).connect() as conn:
        try:
            if what == "followup":
                followup = _int(form, "followup_id", 1, 2**31 - 1)
                try:
                    row_in_scope(conn, user, survey_followups, "followup_id", followup,
                                 RelAction.SURVEY)  # fmt: skip
                except NotFoundError:  # missing and out of scope answer alike
                    return not_found(request, user)
                feedback.close_followup(
                    conn, followup, form.get("note", ""), actor=user.username, now=at
                )
                conn.commit()
                return RedirectResponse("/surveys", status_code=303)
            version = _int(form, "version_id", 1, 2**31 - 1)

            def known(customer: str) -> bool:
                return visible_customer(conn, user, customer, RelAction.SURVEY) is not None

            if what == "responses":
                if not known(form.get("customer_id", "")):
                    raise InputError("customer_id", "no such customer in your scope")
                surveys.record_response(
                    conn,
                    version_id=version,
                    customer_id=form["customer_id"],
                    answered_on=parse_business_date(form.get("answered_on", ""), "answered_on"),
                    csat_score=_int(form, "csat", 1, 5),
                    nps_score=_int(form, "nps", 0, 10),
                    answers={},
                    source="workbench",
                    actor=user.username,
                    today=day,
                    policy=policy_of(request),
                    now=at,
                    invitation_id=(
                        _int(form, "invitation_id", 1, 2**31 - 1)
                        if form.get("invitation_id")
                        else None
                    ),
                    comment=form.get("comment") or None,
                )
            elif what == "import":
                upload = raw.get("file")
                data = (
                    b""
                    if upload is None or isinstance(upload, str)
                    else (await upload.read(MAX_FILE + 1))
                )
                if not data or len(data) > MAX_FILE:
                    raise InputError("file", f"a CSV file of at most {MAX_FILE} bytes")
                try:
                    text = data.decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise InputError("file", "UTF-8 text") from None
                surveys.import_csv(
                    conn, version, text, actor=user.username, today=day, known=known,
                    policy=policy_of(request), now=at,
                )  # fmt: skip
            else:
                raise InputError("what", "responses, import or followup")
            conn.commit()
        except (InputError, DomainError) as exc:
            conn.rollback()
            context = _context(conn, request, user) | {"error": str(exc)}
            status = 409 if isinstance(exc, ConflictError) else 422
            return render_page(request, PAGE, context, user=user, status_code=status)
    return RedirectResponse("/surveys", status_code=303)
