"""The case page (`/cases/{customer}`): timeline, promises, agreements, legal, and the contact
form — its policy check as the fields change (htmx; nothing stored) and recording the contact
(a refusal is stored and shown with the rules it breaks). Agreements' forms:
`collections.web.agreements`.

Each form checks the permission and the data scope of its action (`contact.record`): a customer
outside it is the 404 page, like one that does not exist. POST handlers read the form on the
event loop, then do their database work in the thread pool (`run_in_threadpool`), so the loop
never waits on a query.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from postloan.access import Action, User, can
from postloan.access.scope import customer_in_scope
from postloan.collections.actions import CollectionsAction
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
from postloan.collections.web.case_view import accounts_of, case_view
from postloan.collections.web.contact_form import (
    CONTACT_FIELDS,
    ContactForm,
    blank_contact_form,
    parse_contact_form,
)
from postloan.collections.web.forms import back
from postloan.errors import NotFoundError
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
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


def show_case(
    request: Request, user: User, customer_id: str, *, status: int = 200,
    form: ContactForm | None = None, refusal: list[Violation] | None = None,
    error: str | None = None, proposal: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """The case page, with what a form left to show: the form as typed, the policy's refusal,
    an error naming the field, a proposal as typed; `status` the answer's (422, 409, ...)."""
    policy = policy_of(request)
    try:
        with engine(request).connect() as conn:
            view = case_view(conn, user, customer_id, policy)
    except NotFoundError:
        return not_found(request, user)
    context = {
        "view": view,
        "c": view.customer,
        "form": form or blank_contact_form(policy, now()),
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
    return render_page(request, "collections/case.html", context, status_code=status, user=user)


@router.get("/cases/{customer_id}", response_class=HTMLResponse)
def case_page(request: Request, customer_id: str) -> Response:
    user, gated = page_gate(request, CollectionsAction.CASE_VIEW)
    if gated:
        return gated
    assert user is not None
    return show_case(request, user, customer_id)


def _contact_input(
    request: Request, user: User, customer_id: str, form: FormData
) -> tuple[ContactForm, Policy]:
    """The parsed form; `NotFoundError` when the customer is outside the user's
    `contact.record` scope."""
    policy = policy_of(request)
    with engine(request).connect() as conn:
        customer_in_scope(conn, user, customer_id, CollectionsAction.CONTACT_RECORD)
        accounts = [a["account_id"] for a in accounts_of(conn, customer_id,
                                                         latest_stored_date(conn))]  # fmt: skip
    return parse_contact_form(form, user, customer_id, accounts, policy), policy


@router.post("/cases/{customer_id}/contacts/check", response_class=HTMLResponse)
async def check_contact_form(request: Request, customer_id: str) -> Response:
    """What the contact policy says about the contact as typed (nothing is stored): htmx
    calls it as the form's fields change."""
    user, gated = await post_gate(request, CollectionsAction.CONTACT_RECORD)
    if gated:
        return gated
    assert user is not None
    form = await request.form()

    def work() -> Response:
        try:
            parsed, policy = _contact_input(request, user, customer_id, form)
        except NotFoundError:
            return not_found(request, user)
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
        return render_page(request, "collections/contact_check.html",
                           {"form": parsed, "violations": broken}, user=user)  # fmt: skip

    return await run_in_threadpool(work)


@router.post("/cases/{customer_id}/contacts", response_class=HTMLResponse)
async def save_contact(request: Request, customer_id: str) -> Response:
    """Record the contact: a refusal is stored (for the compliance report) and shown with the
    rules it breaks; bad fields are shown by name; a saved contact returns to the case."""
    user, gated = await post_gate(request, CollectionsAction.CONTACT_RECORD)
    if gated:
        return gated
    assert user is not None
    form = await request.form()

    def work() -> Response:
        try:
            parsed, policy = _contact_input(request, user, customer_id, form)
        except NotFoundError:
            return not_found(request, user)
        if not parsed.ok:
            return show_case(request, user, customer_id, status=422, form=parsed)
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
            parsed.errors[field if field in CONTACT_FIELDS else "outcome"] = str(exc)
            return show_case(request, user, customer_id, status=422, form=parsed)
        if broken:
            return show_case(request, user, customer_id, status=409, form=parsed,
                             refusal=broken)  # fmt: skip
        return back(f"/cases/{customer_id}", "contact")

    return await run_in_threadpool(work)
