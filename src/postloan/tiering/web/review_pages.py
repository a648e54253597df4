"""Tiering's review and tree pages (`tiering.review`): `/tiering/review` the back-test of the
tiers on the stored history — per month and tier the NPL rate and the next month's NPL and
churn rates, the roll rates per DPD bucket and the loss rate — with ECharts lines and a link
to the same figures as an Excel workbook (`GET /api/tiering/review.xlsx`); and
`/tiering/tree` the decision tree fitted on the history as readable rules, the trees proposed
for the policy with their what-if, and for `tiering.adopt` holders the forms to propose one and
to decide another's (maker-checker; CSRF on every form). Amounts only for roles with account
access; scope as the API's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postloan.access import can
from postloan.access.scope import customer_scope_clause
from postloan.api.deps import now
from postloan.api.routes.policy import effective_policy, policy_path
from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.policy.tiering import TIERS
from postloan.tiering import adoption, read, report
from postloan.tiering.actions import TieringAction
from postloan.tiering.candidate import FIELDS, MAX_CUTOFF, NOT_WHOLE, candidate_of, in_force
from postloan.tiering.card import amounts_for, shows_accounts
from postloan.web.charts import PALETTE
from postloan.web.i18n import translate
from postloan.web.pages import engine, lang_of, not_found, page_gate, post_gate, render_page

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 365
OUTCOMES = ("proposed", "adopted", "rejected", "refused")


def _window(request: Request, latest: date) -> tuple[date, date]:
    typed_to, typed_from = request.query_params.get("to"), request.query_params.get("from")
    end = parse_business_date(typed_to, "to") if typed_to else latest
    start = parse_business_date(typed_from, "from") if typed_from else max(
        end - timedelta(days=DEFAULT_DAYS), date(1900, 1, 1))  # fmt: skip
    return start, end


def _lines(rows: list[dict[str, Any]], key: str, lang: str, name: str) -> dict[str, Any]:
    """An ECharts option: one line per tier of `key` (a rate, in percent) by month."""
    months = sorted({r["month"] for r in rows})
    series = []
    for tier in TIERS:
        by_month = {r["month"]: r[key] for r in rows if r["tier"] == tier}
        series.append({"type": "line", "name": translate(lang, "tiering.tier." + tier),
                       "connectNulls": False,
                       "data": [None if by_month.get(m) is None else round(by_month[m] * 100, 2)
                                for m in months]})  # fmt: skip
    return {"color": PALETTE, "tooltip": {"trigger": "axis"}, "animation": False,
            "legend": {"top": 0}, "grid": {"left": 60, "right": 20, "top": 30, "bottom": 40},
            "xAxis": {"type": "category", "data": months},
            "yAxis": {"type": "value", "name": name + " %"}, "series": series}  # fmt: skip


@router.get("/tiering/review", response_class=HTMLResponse)
def review_page(request: Request) -> Response:
    user, gated = page_gate(request, TieringAction.REVIEW)
    if gated:
        return gated
    assert user is not None
    lang = lang_of(request)
    t = lambda key: translate(lang, key)  # noqa: E731
    context: dict[str, Any] = {"rows": None, "error": None, "tiers": TIERS,
                               "shows_accounts": shows_accounts(user)}  # fmt: skip
    scope = customer_scope_clause(user, TieringAction.REVIEW)
    with engine(request).connect() as conn:
        latest = read.latest_date(conn)
        if latest is None:
            return render_page(request, "tiering/review.html", context, user=user)
        try:
            start, end = _window(request, latest)
            context.update(start=start, end=end)
            rows = report.review(conn, start, end, scope)
            rolls = report.roll_and_loss(conn, start, end, scope, effective_policy(request)[0])
        except (InputError, DomainError) as exc:
            context["error"] = str(exc)
            return render_page(request, "tiering/review.html", context, user=user,
                               status_code=422)  # fmt: skip
    cells = {(r["month"], r["tier"], r["bucket"]): r for r in rolls["rolls"]}
    charts = {
        "chart-tier-npl": _lines(rows, "npl_rate", lang, t("tiering.npl_rate")),
        "chart-tier-loss": _lines(rolls["losses"], "loss_rate", lang, t("tiering.loss_rate")),
    }
    context.update(rows=amounts_for(user, rows), losses=amounts_for(user, rolls["losses"]),
                   buckets=rolls["buckets"][:-1], cells=cells, charts=charts,
                   captions={"chart-tier-npl": "tiering.npl_rate",
                             "chart-tier-loss": "tiering.loss_rate"})  # fmt: skip
    status = _what_if(request, context, start, end, scope)
    context["download"] = _download(start, end, context, lang_of(request))
    return render_page(request, "tiering/review.html", context, user=user, status_code=status)


def _download(start: date, end: date, context: dict[str, Any], lang: str) -> str:
    """The workbook's link (`GET /api/tiering/review.xlsx`, same permission and scope): the
    page's window and language and, when the page shows a what-if, its typed cut-offs."""
    params = {"from": start.isoformat(), "to": end.isoformat(), "lang": lang}
    if context.get("what_if") is not None:
        params.update({"whatif": "true", **{n: str(context["values"][n]) for n in FIELDS}})
    return "/api/tiering/review.xlsx?" + urlencode(params)


def _what_if(request: Request, context: dict[str, Any], start: date, end: date, scope: Any) -> int:
    """The what-if form's part of the review page (GET, `whatif=1`): the typed cut-offs
    replayed on the window beside the policy in force (`report.what_if`, as `POST
    /api/tiering/whatif`). Fills `context`; the page's status (422 for a refused input)."""
    policy = effective_policy(request)[0]
    current = in_force(policy)
    typed = {n: (request.query_params.get(n) or "")[:40] for n in FIELDS}
    context.update(cutoffs=FIELDS, in_force=current, whatif_error=None, what_if=None,
                   typed={n: typed[n] or str(current[n]) for n in FIELDS})  # fmt: skip
    if request.query_params.get("whatif") != "1":
        return 200
    try:
        candidate, values = candidate_of(policy, typed)
        with engine(request).connect() as conn:
            found = report.what_if(conn, start, end, scope, candidate)
    except DomainError as exc:
        context["whatif_error"] = _said(lang_of(request), exc)
        return 422
    context["what_if"] = side_by_side(found)
    context["changed"] = [n for n in FIELDS if values[n] != current[n]]
    context["values"] = values
    return 200


def _said(lang: str, exc: DomainError) -> str:
    """A refused what-if input in the page's language: one sentence naming the cut-off (its
    label quoted — labels hold a colon of their own, "Poor credit: DPD from", so no second
    colon is put after them) and why (the policy's own reason in brackets)."""
    if exc.field not in FIELDS:
        return str(exc)
    label = translate(lang, "tiering.cut." + exc.field)
    if exc.code == NOT_WHOLE:
        return translate(lang, "tiering.whatif_not_whole", label=label, max=MAX_CUTOFF)
    return translate(lang, "tiering.whatif_refused", label=label, reason=str(exc))


def side_by_side(found: dict[str, Any]) -> dict[str, Any]:
    """A what-if (`report.what_if`) laid out for the page: customers per tier on `to` under
    the stored tiers and the candidate's (from the transition matrix), the matrix as rows, the
    customers moved per date, and per month and tier the two reviews beside each other."""
    cells = {(c["stored"], c["candidate"]): c["customers"] for c in found["transitions"]}
    counts = [{"tier": t,
               "stored": sum(n for (a, _), n in cells.items() if a == t),
               "candidate": sum(n for (_, b), n in cells.items() if b == t)}
              for t in TIERS]  # fmt: skip
    for row in counts:
        row["change"] = row["candidate"] - row["stored"]
    matrix = [{"stored": a, "cells": [cells.get((a, b), 0) for b in TIERS]} for a in TIERS]
    now = {(r["month"], r["tier"]): r for r in found["current"]}
    then = {(r["month"], r["tier"]): r for r in found["candidate"]}
    keys = sorted(now.keys() | then.keys(), key=lambda k: (k[0], TIERS.index(k[1])))
    review = [{"month": m, "tier": t, "current": now.get((m, t)), "candidate": then.get((m, t))}
              for m, t in keys]  # fmt: skip
    return {"to": found["to"], "version": found["version"], "counts": counts,
            "matrix": matrix, "moved": found["moved"], "review": review,
            "has_matrix": bool(found["transitions"])}  # fmt: skip


@router.get("/tiering/tree", response_class=HTMLResponse)
def tree_page(request: Request) -> Response:
    user, gated = page_gate(request, TieringAction.REVIEW)
    if gated:
        return gated
    assert user is not None
    done = request.query_params.get("done")
    context: dict[str, Any] = {"fitted": None, "error": None, "proposals": [],
                               "may_adopt": can(user.role, TieringAction.ADOPT),
                               "done": done if done in OUTCOMES else None,
                               "why": (request.query_params.get("why") or "")[:300]}  # fmt: skip
    scope = customer_scope_clause(user, TieringAction.REVIEW)
    with engine(request).connect() as conn:
        latest = read.latest_date(conn)
        context["proposals"] = adoption.proposals(conn, limit=20)
        if latest is None:
            return render_page(request, "tiering/tree.html", context, user=user)
        try:
            start, end = _window(request, latest)
            context.update(start=start, end=end)
            context["fitted"] = report.tree(conn, start, end, scope)
            waiting = next((p for p in context["proposals"] if p["status"] == "proposed"), None)
            if waiting is not None:  # the newest waiting proposal's what-if (bounded: one)
                candidate = adoption.with_rules(effective_policy(request)[0], waiting["rules"])
                context["what_if"] = report.what_if(
                    conn, date.fromisoformat(waiting["fitted_from"]),
                    date.fromisoformat(waiting["fitted_to"]), scope, candidate)  # fmt: skip
                context["waiting_id"] = waiting["proposal_id"]
        except (InputError, DomainError) as exc:
            context["error"] = str(exc)
            return render_page(request, "tiering/tree.html", context, user=user,
                               status_code=422)  # fmt: skip
    return render_page(request, "tiering/tree.html", context, user=user)


def _back(outcome: str, why: str = "") -> RedirectResponse:
    tail = f"&why={quote(why[:300])}" if why else ""
    return RedirectResponse(f"/tiering/tree?done={outcome}{tail}#tree-outcome", status_code=303)


def _form_date(value: object, field: str) -> date | None:
    text = str(value or "").strip()
    return parse_business_date(text, field) if text else None


@router.post("/tiering/tree/proposals", response_class=HTMLResponse)
async def propose_page(request: Request) -> Response:
    """The propose form: the tree fitted on the window's whole history, for another's decision."""
    user, gated = await post_gate(request, TieringAction.ADOPT)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    note = str(form.get("note") or "").replace("\x00", "")
    try:
        depth = int(str(form.get("max_depth") or "3"))
        if not 1 <= depth <= 6:
            raise ValueError
    except ValueError:
        return _back("refused", "max_depth: 1 to 6")
    with engine(request).connect() as conn:
        try:
            latest = read.latest_date(conn)
            end = _form_date(form.get("to"), "to") or latest
            if end is None:
                return _back("refused", "no tiers stored yet")
            start = _form_date(form.get("from"), "from") or end - timedelta(days=DEFAULT_DAYS)
            adoption.propose_tree(conn, effective_policy(request)[0], start, end, depth, note,
                                  user.username, now())  # fmt: skip
            conn.commit()
        except (InputError, DomainError) as exc:
            conn.rollback()
            return _back("refused", str(exc))
    return _back("proposed")


@router.post("/tiering/tree/proposals/{proposal_id}/decision", response_class=HTMLResponse)
async def decide_page(request: Request, proposal_id: int) -> Response:
    """Approve (writes the new policy version) or reject; never one's own proposal."""
    user, gated = await post_gate(request, TieringAction.ADOPT)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    approve = str(form.get("decision") or "") == "approve"
    note = str(form.get("note") or "").replace("\x00", "")
    if not 0 < proposal_id < 2**31:
        return not_found(request, user)
    with engine(request).connect() as conn:
        try:
            adoption.proposal_row(conn, proposal_id)
        except DomainError:
            return not_found(request, user)
        try:
            status, _ = adoption.decide_and_write(
                conn, proposal_id, approve, note, effective_policy(request)[0],
                policy_path(request), user.username, now(),
            )  # fmt: skip
            conn.commit()
        except DomainError as exc:
            conn.rollback()
            return _back("refused", str(exc))
    return _back(status)
