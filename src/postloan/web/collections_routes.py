"""The collections workbench pages: my queue, the case page (timeline, contact form with the
policy check, promises, agreements), allocation, legal matters and the KPI page.

Each page and form checks the permission matrix (no permission: 403) and the data scope of its
action (a customer, task, agreement or matter outside it: 404, like the API). Every POST needs
the CSRF token. The writing is the services' (`postloan.collections.*`), which audit it; errors
are shown on the page naming the record and field.

POST handlers read the form on the event loop, then do their database work in the thread pool
(`run_in_threadpool`), so the loop never waits on a query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from postloan.access import Action, User, can
from postloan.access.scope import visible_customer
from postloan.api.routes.policy import effective_policy
from postloan.collections import agreements as agreement_service
from postloan.collections import legal_matters as matter_service
from postloan.collections import legal_proposals as proposal_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.agreement_tables import agreements
from postloan.collections.allocation import ReassignRefused, reassign
from postloan.collections.contacts import (
    CHANNELS,
    OUTCOMES,
    Contact,
    ContactRefused,
    Violation,
    check_contact,
    opted_out_channels,
    recent_contacts,
    record_contact,
)
from postloan.collections.errors import RecordConflict, RecordInvalid, RecordNotFound, SameUser
from postloan.collections.kpis import REDUCTION_PARTS, KpiError, kpis_for
from postloan.collections.legal_tables import legal_matters, legal_proposals
from postloan.collections.reminders import complete
from postloan.inputs import InputError, parse_amount_text, parse_business_date, parse_row_id
from postloan.policy import Policy
from postloan.store.schema import loans
from postloan.web import collections_data as data
from postloan.web.routes import _forbidden, _is_htmx, _not_found, _render, _to_login, lang_of
from postloan.web.security import csrf_ok, current_user, engine, now

router = APIRouter(include_in_schema=False)


def _policy(request: Request) -> Policy:
    return effective_policy(request)[0]


def _error(request: Request, user: User, status: int, message: str) -> HTMLResponse:
    """A refusal page naming what was wrong (the service's message names record and field)."""
    return _render(
        request, "collections/refused.html", {"message": message}, status_code=status, user=user
    )


def _gate(request: Request, action: Action | str) -> tuple[User | None, Response | None]:
    user = current_user(request)
    if user is None:
        return None, _to_login(request)
    if not can(user.role, action):
        return user, _forbidden(request, user)
    return user, None


async def _post_gate(request: Request, action: Action | str) -> tuple[User | None, Response | None]:
    """Logged in, CSRF token valid, and the action granted — in that order."""
    user = current_user(request)
    if user is None:
        return None, _to_login(request)
    if not await csrf_ok(request):
        return user, _forbidden(request, user)
    if not can(user.role, action):
        return user, _forbidden(request, user)
    return user, None


def _key(value: str) -> int | None:
    return parse_row_id(value)


def _text(form: FormData, name: str) -> str:
    """A form field's text, trimmed; NUL characters dropped (no browser sends them, and
    PostgreSQL text cannot hold them)."""
    value = form.get(name)
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def _date(form: FormData, name: str, default: date) -> date:
    """The form's date, or `default` when left empty; a bad one raises naming the field."""
    text = _text(form, name)
    return parse_business_date(text, name) if text else default


def _back(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={done}", status_code=303)


# --- my queue ----------------------------------------------------------------------------------


@router.get("/work", response_class=HTMLResponse)
def work_queue(request: Request) -> Response:
    user, refused = _gate(request, CollectionsAction.CASE_VIEW)
    if refused:
        return refused
    assert user is not None
    with engine(request).connect() as conn:
        queue = data.queue(conn, user, _policy(request), lang_of(request))
    return _render(
        request,
        "collections/work.html",
        {"queue": queue, "limit": data.QUEUE_LIMIT,
         "as_of_iso": queue.as_of.isoformat() if queue.as_of else "",
         "done": request.query_params.get("done"),
         "may_complete": can(user.role, CollectionsAction.CONTACT_RECORD)},
        user=user,
    )  # fmt: skip


@router.post("/work/tasks/{task_id}/complete", response_class=HTMLResponse)
async def complete_task(request: Request, task_id: str) -> Response:
    """Mark a reminder sent by phone or SMS; htmx swaps the row for the done one."""
    user, refused = await _post_gate(request, CollectionsAction.CONTACT_RECORD)
    if refused:
        return refused
    assert user is not None
    form = await request.form()
    channel = _text(form, "channel")
    key = _key(task_id)

    def work() -> Response:
        if key is None:
            return _not_found(request, user)
        policy = _policy(request)
        with engine(request).begin() as conn:
            row = data.task_in_scope(conn, user, key, CollectionsAction.CONTACT_RECORD)
            if row is None:
                return _not_found(request, user)
            if row.kind != "reminder":
                return _error(
                    request,
                    user,
                    409,
                    f"task {key}: a {row.kind} task is done by recording the contact",
                )
            if row.status != "open":
                return _error(request, user, 409, f"task {key}: already {row.status}")
            if channel not in ("phone", "sms"):
                return _error(
                    request, user, 422, f"channel: a reminder goes by phone or sms, not {channel!r}"
                )
            complete(conn, key, user.username, channel, now())
            task = data.one_task(conn, key, policy, lang_of(request))
        if not _is_htmx(request):
            return RedirectResponse("/work?done=task", status_code=303)
        return _render(request, "collections/task_row.html",
                       {"task": task, "may_complete": True}, user=user)  # fmt: skip

    return await run_in_threadpool(work)


# --- the case page -------------------------------------------------------------------------------


def _case_page(
    request: Request, user: User, customer_id: str, *, status: int = 200,
    form: data.ContactForm | None = None, refusal: list[Violation] | None = None,
    error: str | None = None, proposal: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    policy = _policy(request)
    with engine(request).connect() as conn:
        view = data.case_view(conn, user, customer_id, policy)
    if view is None:
        return _not_found(request, user)
    context = {
        "view": view,
        "c": view.customer,
        "form": form or data.blank_contact_form(policy, now()),
        "refusal": refusal,
        "error": error,
        "proposal": proposal or {},
        "channels": CHANNELS,
        "outcomes": OUTCOMES,
        "zone": policy.contact.rules_for(None).timezone,
        "min_dpd": policy.collections.agreement_min_dpd,
        "done": request.query_params.get("done"),
        "may_view_customer": can(user.role, Action.CUSTOMER_VIEW),
    }
    return _render(request, "collections/case.html", context, status_code=status, user=user)


@router.get("/cases/{customer_id}", response_class=HTMLResponse)
def case_page(request: Request, customer_id: str) -> Response:
    user, refused = _gate(request, CollectionsAction.CASE_VIEW)
    if refused:
        return refused
    assert user is not None
    return _case_page(request, user, customer_id)


def _contact_input(
    request: Request, user: User, customer_id: str, form: FormData
) -> tuple[data.ContactForm | None, Policy]:
    """The parsed form, or None when the customer is outside the user's `contact.record`
    scope."""
    policy = _policy(request)
    with engine(request).connect() as conn:
        if visible_customer(conn, user, customer_id, CollectionsAction.CONTACT_RECORD) is None:
            return None, policy
        accounts = [a["account_id"] for a in data._accounts(conn, customer_id,
                                                            data.latest_day(conn))]  # fmt: skip
    return data.parse_contact_form(form, user, customer_id, accounts, policy), policy


@router.post("/cases/{customer_id}/contacts/check", response_class=HTMLResponse)
async def check_contact_form(request: Request, customer_id: str) -> Response:
    """What the contact policy says about the contact as typed (nothing is stored): htmx
    calls it as the form's fields change."""
    user, refused = await _post_gate(request, CollectionsAction.CONTACT_RECORD)
    if refused:
        return refused
    assert user is not None
    form = await request.form()

    def work() -> Response:
        parsed, policy = _contact_input(request, user, customer_id, form)
        if parsed is None:
            return _not_found(request, user)
        broken: list[Violation] = []
        if parsed.ok:
            assert parsed.at is not None
            planned = Contact(customer_id, parsed.at, parsed.values["channel"], parsed.staff)
            rules = policy.contact.rules_for(None)
            with engine(request).connect() as conn:
                broken = check_contact(
                    planned, recent_contacts(conn, customer_id, planned.at),
                    opted_out_channels(conn, customer_id), rules,
                    policy.contact.min_staff_per_visit,
                )  # fmt: skip
        return _render(request, "collections/contact_check.html",
                       {"form": parsed, "violations": broken}, user=user)  # fmt: skip

    return await run_in_threadpool(work)


@router.post("/cases/{customer_id}/contacts", response_class=HTMLResponse)
async def save_contact(request: Request, customer_id: str) -> Response:
    """Record the contact: a refusal is stored (for the compliance report) and shown with the
    rules it breaks; bad fields are shown by name; a saved contact returns to the case."""
    user, refused = await _post_gate(request, CollectionsAction.CONTACT_RECORD)
    if refused:
        return refused
    assert user is not None
    form = await request.form()

    def work() -> Response:
        parsed, policy = _contact_input(request, user, customer_id, form)
        if parsed is None:
            return _not_found(request, user)
        if not parsed.ok:
            return _case_page(request, user, customer_id, status=422, form=parsed)
        assert parsed.at is not None
        values = parsed.values
        contact = Contact(customer_id, parsed.at, values["channel"], parsed.staff,
                          values["outcome"])  # fmt: skip
        try:
            with engine(request).begin() as conn:
                try:
                    record_contact(
                        conn, contact, policy, recorded_by=user.username,
                        account_id=values["account_id"] or None,
                        content=values["content"] or None, response=values["response"] or None,
                        promise=parsed.promise,
                    )  # fmt: skip
                except ContactRefused as refusal:
                    broken = refusal.violations  # the refusal row commits with the block
                else:
                    broken = []
        except ValueError as exc:  # e.g. a promise due before the day it is made
            field = str(exc).split(":", 1)[0]
            field = "promise_amount" if field == "promise" else field
            parsed.errors[field if field in data.CONTACT_FIELDS else "outcome"] = str(exc)
            return _case_page(request, user, customer_id, status=422, form=parsed)
        if broken:
            return _case_page(request, user, customer_id, status=409, form=parsed,
                              refusal=broken)  # fmt: skip
        return _back(f"/cases/{customer_id}", "contact")

    return await run_in_threadpool(work)


# --- agreements (maker-checker) -----------------------------------------------------------------

PROPOSAL_FIELDS = ("account_id", "kind", "instalments", "first_due_date", "extension_months",
                   "reason")  # fmt: skip


def _agreement_errors(run: Callable[[], Any]) -> tuple[Any, int, str | None]:
    """Run a service call; its refusal as (None, status, message naming the field)."""
    try:
        return run(), 200, None
    except agreement_service.AgreementNotFound as err:
        return None, 404, str(err)
    except agreement_service.AgreementConflict as err:
        return None, 409, str(err)
    except agreement_service.AgreementInvalid as err:
        return None, 422, str(err)
    except agreement_service.MakerCheckerRefused as err:
        return None, 403, str(err)


@router.post("/cases/{customer_id}/agreements", response_class=HTMLResponse)
async def propose_agreement(request: Request, customer_id: str) -> Response:
    user, refused = await _post_gate(request, CollectionsAction.AGREEMENT_PROPOSE)
    if refused:
        return refused
    assert user is not None
    form = await request.form()
    typed = {k: _text(form, k) for k in PROPOSAL_FIELDS}

    def work() -> Response:
        policy = _policy(request)

        def number(name: str) -> int | None:
            text = typed[name]
            if not text:
                return None
            if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1200:
                raise agreement_service.AgreementInvalid(f"{name}: a whole number 1 to 1200",
                                                         name)  # fmt: skip
            return int(text)

        def first_due() -> date | None:
            text = typed["first_due_date"]
            try:
                return parse_business_date(text, "first_due_date") if text else None
            except InputError as exc:
                raise agreement_service.AgreementInvalid(str(exc), "first_due_date") from None

        with engine(request).begin() as conn:
            if (
                visible_customer(conn, user, customer_id, CollectionsAction.AGREEMENT_PROPOSE)
                is None
            ):
                return _not_found(request, user)
            owner = conn.execute(
                select(loans.c.customer_id).where(loans.c.loan_id == typed["account_id"])
            ).scalar()
            if owner != customer_id:
                return _case_page(request, user, customer_id, status=422, proposal=typed,
                                  error=f"account_id: {typed['account_id']!r} is not one of the "
                                  "customer's loans")  # fmt: skip
            kind = typed["kind"]
            reason = typed["reason"][:4000] or None
            made, status, message = _agreement_errors(
                lambda: agreement_service.propose(
                    conn, policy, account_id=typed["account_id"], kind=kind,
                    proposed_by=user.username, now=now(),
                    instalments=number("instalments") if kind == "instalments" else None,
                    first_due_date=first_due() if kind == "instalments" else None,
                    extension_months=number("extension_months") if kind == "extension" else None,
                    reason=reason,
                )
            )  # fmt: skip
            if made is None:
                conn.rollback()
        if made is None:
            return _case_page(request, user, customer_id, status=status, proposal=typed,
                              error=message)  # fmt: skip
        return _back(f"/cases/{customer_id}", "proposed")

    return await run_in_threadpool(work)


@router.post("/cases/{customer_id}/agreements/{agreement_id}/{decision}",
             response_class=HTMLResponse)  # fmt: skip
async def decide_agreement(
    request: Request, customer_id: str, agreement_id: str, decision: str
) -> Response:
    """approve | reject (a checker: `agreement.approve`, never the proposer) or withdraw (the
    proposer)."""
    if decision not in ("approve", "reject", "withdraw"):
        user = current_user(request)
        return _not_found(request, user) if user else _to_login(request)
    action = (
        CollectionsAction.AGREEMENT_PROPOSE
        if decision == "withdraw"
        else CollectionsAction.AGREEMENT_APPROVE
    )
    user, refused = await _post_gate(request, action)
    if refused:
        return refused
    assert user is not None
    form = await request.form()
    note = _text(form, "note")[:2000] or None
    key = _key(agreement_id)

    def work() -> Response:
        if key is None:
            return _not_found(request, user)
        policy = _policy(request)
        with engine(request).begin() as conn:
            row = data.in_scope(conn, user, agreements, "agreement_id", key, action)
            if row is None or row.customer_id != customer_id:
                return _not_found(request, user)
            calls: dict[str, Callable[[], Any]] = {
                "approve": lambda: agreement_service.approve(conn, policy, key, user, now(), note),
                "reject": lambda: agreement_service.reject(conn, key, user, now(), note),
                "withdraw": lambda: agreement_service.withdraw(conn, key, user, now(), note),
            }
            done, status, message = _agreement_errors(calls[decision])
            if done is None:
                conn.rollback()
        if done is None:
            assert message is not None
            if status == 403:
                return _error(request, user, 403, message)
            return _case_page(request, user, customer_id, status=status, error=message)
        return _back(f"/cases/{customer_id}", decision)

    return await run_in_threadpool(work)


# --- allocation ----------------------------------------------------------------------------------


@router.get("/allocation", response_class=HTMLResponse)
def allocation_page(request: Request, collector: str = "", page: int = 1) -> Response:
    user, refused = _gate(request, CollectionsAction.CASE_ASSIGN)
    if refused:
        return refused
    assert user is not None
    return _allocation(request, user, collector, max(1, min(page, 100_000)))


def _allocation(
    request: Request, user: User, collector: str, page: int, *, status: int = 200,
    error: str | None = None,
) -> Response:  # fmt: skip
    with engine(request).connect() as conn:
        view = data.allocation(conn, user, collector or None, page, data.zone_of(_policy(request)))
    return _render(
        request, "collections/allocation.html",
        {"a": view, "collector": collector, "page": page, "page_size": data.ALLOCATION_PAGE,
         "error": error, "done": request.query_params.get("done")},
        status_code=status, user=user,
    )  # fmt: skip


@router.post("/allocation/{customer_id}/reassign", response_class=HTMLResponse)
async def reassign_case(request: Request, customer_id: str) -> Response:
    user, refused = await _post_gate(request, CollectionsAction.CASE_ASSIGN)
    if refused:
        return refused
    assert user is not None
    form = await request.form()
    to, reason = _text(form, "to"), _text(form, "reason")[:1000]

    def work() -> Response:
        try:
            with engine(request).begin() as conn:
                reassign(conn, customer_id, to, reason, user, now(), _policy(request))
        except ReassignRefused as refusal:
            if refusal.kind == "not_found":
                return _not_found(request, user)
            status = 409 if refusal.kind == "conflict" else 422
            return _allocation(request, user, "", 1, status=status,
                               error=f"{customer_id}: {refusal.message}")  # fmt: skip
        return _back("/allocation", "reassigned")

    return await run_in_threadpool(work)


# --- legal ---------------------------------------------------------------------------------------


@router.get("/legal", response_class=HTMLResponse)
def legal_page(request: Request, status: str = "open") -> Response:
    user, refused = _gate(request, CollectionsAction.CASE_VIEW)
    if refused:
        return refused
    assert user is not None
    return _legal(request, user, status if status in ("open", "closed", "all") else "open")


def _legal(request: Request, user: User, status: str, *, code: int = 200,
           error: str | None = None) -> Response:  # fmt: skip
    policy = _policy(request)
    with engine(request).connect() as conn:
        view = data.legal_page(conn, user, policy, status)
    return _render(
        request, "collections/legal.html",
        {"l": view, "error": error, "done": request.query_params.get("done"),
         "may_manage": can(user.role, CollectionsAction.LEGAL_MANAGE),
         "today": data.today(policy, now()),
         "transitions": matter_service.TRANSITIONS,
         "early_reasons": matter_service.EARLY_CLOSE_REASONS,
         "close_reasons": matter_service.CLOSE_REASONS,
         "categories": policy.legal.cost_categories,
         "items": policy.legal.all_items},
        status_code=code, user=user,
    )  # fmt: skip


def _legal_errors(run: Callable[[], Any]) -> tuple[bool, int, str | None]:
    try:
        run()
        return True, 200, None
    except RecordNotFound as err:
        return False, 404, err.message
    except RecordConflict as err:  # EvidenceMissing included: names the items
        return False, 409, err.message
    except RecordInvalid as err:
        return False, 422, err.message
    except SameUser as err:
        return False, 403, err.message
    except ValueError as err:  # a form date or amount
        return False, 422, str(err)


LEGAL_ACTIONS = {
    ("proposals", "accept"), ("proposals", "decline"), ("matters", "advance"),
    ("matters", "evidence"), ("matters", "costs"),
}  # fmt: skip


@router.post("/legal/{what}/{record_id}/{verb}", response_class=HTMLResponse)
async def legal_action(request: Request, what: str, record_id: str, verb: str) -> Response:
    """Accept or decline a proposal; advance a matter, add evidence or a cost — each with
    `legal.manage` over the record's customer."""
    if (what, verb) not in LEGAL_ACTIONS:
        user = current_user(request)
        return _not_found(request, user) if user else _to_login(request)
    user, refused = await _post_gate(request, CollectionsAction.LEGAL_MANAGE)
    if refused:
        return refused
    assert user is not None
    form = await request.form()
    key = _key(record_id)

    def work() -> Response:
        if key is None:
            return _not_found(request, user)
        policy = _policy(request)
        day = data.today(policy, now())
        table, column = ((legal_proposals, "proposal_id") if what == "proposals"
                         else (legal_matters, "matter_id"))  # fmt: skip
        note = _text(form, "note")[:2000] or None
        with engine(request).begin() as conn:
            if (
                data.in_scope(conn, user, table, column, key, CollectionsAction.LEGAL_MANAGE)
                is None
            ):
                return _not_found(request, user)
            calls: dict[str, Callable[[], Any]] = {
                "accept": lambda: proposal_service.accept_proposal(
                    conn, key, policy, user=user.username, on=_date(form, "on", day), now=now(),
                    note=note),
                "decline": lambda: proposal_service.decline_proposal(
                    conn, key, user=user.username, note=note or "", now=now()),
                "advance": lambda: matter_service.advance_matter(
                    conn, key, _text(form, "to"), policy, user=user.username,
                    on=_date(form, "on", day), now=now(),
                    reference=_text(form, "reference")[:128] or None, note=note,
                    close_reason=_text(form, "close_reason") or None),
                "evidence": lambda: matter_service.add_evidence(
                    conn, key, _text(form, "item"), policy, name=_text(form, "name"),
                    reference=_text(form, "reference"), user=user.username, now=now()),
                "costs": lambda: matter_service.add_cost(
                    conn, key, policy, category=_text(form, "category"),
                    amount=_amount(form), incurred_on=_date(form, "incurred_on", day),
                    user=user.username, now=now(), note=note),
            }  # fmt: skip
            message: str | None
            if verb == "advance" and _text(form, "to") not in matter_service.STAGES:
                ok, code, message = False, 422, f"legal matter {key}: to: one of the stages"
            else:
                ok, code, message = _legal_errors(calls[verb])
            if not ok:
                conn.rollback()
        if not ok:
            return _legal(request, user, "open", code=code, error=message)
        return _back("/legal", verb)

    return await run_in_threadpool(work)


def _amount(form: FormData) -> int:
    return parse_amount_text(_text(form, "amount"), "amount")  # InputError names the field


# --- KPIs ----------------------------------------------------------------------------------------


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(request: Request) -> Response:
    user, refused = _gate(request, CollectionsAction.REPORT_COLLECTIONS)
    if refused:
        return refused
    assert user is not None
    lang = lang_of(request)
    policy = _policy(request)
    context: dict[str, Any] = {"result": None, "error": None, "parts": REDUCTION_PARTS}
    with engine(request).connect() as conn:
        period = data.default_period(conn)
        if period is None:
            return _render(request, "collections/kpis.html", context, user=user)
        start, end = period
        typed_to, typed_from = request.query_params.get("to"), request.query_params.get("from")
        try:  # business dates: a period ending 0001-01-01 cannot reach back (no overflow)
            end = parse_business_date(typed_to, "to") if typed_to else end
            start = (parse_business_date(typed_from, "from") if typed_from
                     else end - (period[1] - period[0]))  # fmt: skip
        except InputError as exc:
            context.update(error=str(exc), start=start, end=end)
            return _render(request, "collections/kpis.html", context, status_code=422, user=user)
        context.update(start=start, end=end)
        try:
            result, rows = kpis_for(conn, user, start, end, policy)
        except KpiError as exc:
            field = "to" if "before" in str(exc) else "from"
            context["error"] = f"{field}: {exc}"
            return _render(request, "collections/kpis.html", context, status_code=422, user=user)
    context.update(
        result=result, rows=rows.to_dicts(), charts=data.kpi_charts(result, rows, lang),
        strategies=result.strategies.to_dicts(),
        captions=data.KPI_CAPTIONS, row_label=lambda level, key: data.row_label(lang, level, key),
    )  # fmt: skip
    return _render(request, "collections/kpis.html", context, user=user)
