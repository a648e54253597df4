"""Satisfaction surveys (CR-2): questionnaire versions (a version is never changed: a new one
is added), responses entered in the workbench or imported, and the figures — CSAT and NPS with
their intervals (`rules.surveys`) by branch and period, and by tier (`figures_by_tier`).
Flushes, never commits."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, func, insert, literal, select

from postloan.access import audit
from postloan.errors import ConflictError, InvalidError
from postloan.inputs import parse_business_date
from postloan.policy import Policy
from postloan.relationship.feedback import open_followups
from postloan.relationship.rules.surveys import Figure, csat, nps
from postloan.relationship.tables import survey_invitations, survey_responses, survey_versions
from postloan.relationship.tiers import TIERS, has_tiers, tier_on_or_before
from postloan.store.schema import customers
from postloan.store.values import stored_date

# Seed 003's dimensions: efficiency, quality, products, attitude, resolution speed.
DEFAULT_QUESTIONS = ("efficiency", "quality", "products", "attitude", "resolution_speed")
MAX_QUESTIONS = 30
MAX_COMMENT = 2000


def add_version(
    conn: Connection, name: str, questions: Sequence[str], *, actor: str, now: datetime
) -> int:
    keys = [q.strip() for q in questions]
    if (
        not 1 <= len(keys) <= MAX_QUESTIONS
        or len(set(keys)) != len(keys)
        or not all(k.isidentifier() and len(k) <= 40 for k in keys)
    ):
        raise InvalidError(
            f"questions: 1 to {MAX_QUESTIONS} distinct keys (letters, digits, _)", field="questions"
        )
    title = name.strip()
    if not title or len(title) > 100:
        raise InvalidError("name: 1 to 100 characters", field="name")
    key = conn.execute(
        insert(survey_versions).values(
            name=title,
            questions=json.dumps(keys),
            created_by=actor,
            created_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    audit.record(
        conn,
        actor=actor,
        action="survey.version",
        target_type="survey_version",
        target_id=str(key[0]),
        detail={"name": title, "questions": keys},
        now=now,
    )
    return int(key[0])


def questions_of(conn: Connection, version_id: int) -> list[str]:
    row = conn.execute(
        select(survey_versions.c.questions).where(survey_versions.c.version_id == version_id)
    ).first()
    if row is None:
        raise InvalidError(f"version_id: no questionnaire {version_id}", field="version_id")
    return list(json.loads(row.questions))


def record_response(
    conn: Connection,
    *,
    version_id: int,
    customer_id: str,
    answered_on: date,
    csat_score: int,
    nps_score: int,
    answers: dict[str, int],
    source: str,
    actor: str,
    today: date,
    policy: Policy,
    now: datetime,
    invitation_id: int | None = None,
    comment: str | None = None,
) -> int:
    """One response; with `invitation_id`, the invitation it answers (sent to this customer,
    on or before the answer, not answered yet). A low score opens its department's follow-up
    (`feedback.open_followups`)."""
    keys = questions_of(conn, version_id)
    if answered_on > today:
        raise InvalidError("answered_on: in the future", field="answered_on")
    if not 1 <= csat_score <= 5:
        raise InvalidError("csat: 1 to 5", field="csat")
    if not 0 <= nps_score <= 10:
        raise InvalidError("nps: 0 to 10", field="nps")
    if set(answers) - set(keys) or not all(1 <= v <= 5 for v in answers.values()):
        raise InvalidError(f"answers: questions {', '.join(keys)}, each 1 to 5", "answers")
    if source not in ("workbench", "import"):
        raise InvalidError("source: workbench or import", field="source")
    text = (comment or "").strip() or None
    if text is not None and (len(text) > MAX_COMMENT or "\x00" in text):
        raise InvalidError(f"comment: at most {MAX_COMMENT} characters", field="comment")
    if invitation_id is not None:
        check_invitation(conn, invitation_id, customer_id, answered_on)
    branch = conn.execute(
        select(customers.c.branch_id).where(customers.c.customer_id == customer_id)
    ).scalar_one()
    key = conn.execute(
        insert(survey_responses).values(
            version_id=version_id,
            customer_id=customer_id,
            branch_id=branch,
            answered_on=answered_on,
            csat=csat_score,
            nps=nps_score,
            answers=json.dumps(answers, sort_keys=True),
            source=source,
            entered_by=actor,
            invitation_id=invitation_id,
            comment=text,
        )
    ).inserted_primary_key
    assert key is not None
    open_followups(conn, policy, [int(key[0])], now)
    return int(key[0])


def check_invitation(conn: Connection, invitation_id: int, customer_id: str, day: date) -> None:
    """An answer to an invitation: it was sent (not refused) to this customer on or before
    the answer, and is not answered yet (ConflictError naming the response)."""
    i = survey_invitations.c
    row = conn.execute(
        select(i.customer_id, i.status, i.invited_on).where(i.invitation_id == invitation_id)
    ).first()
    if row is None or row.customer_id != customer_id:
        raise InvalidError(
            f"invitation_id: no invitation {invitation_id} of this customer", "invitation_id"
        )
    if row.status != "invited":
        raise InvalidError(f"invitation_id: invitation {invitation_id} was not sent (refused)",
                           "invitation_id")  # fmt: skip
    if stored_date(row.invited_on) > day:
        raise InvalidError("answered_on: before the invitation", field="answered_on")
    done = conn.execute(
        select(survey_responses.c.response_id).where(
            survey_responses.c.invitation_id == invitation_id
        )
    ).scalar()
    if done is not None:
        raise ConflictError(f"invitation {invitation_id} is already answered (response {done})")


def figures(
    conn: Connection, policy: Policy, start: date, end: date, scope: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """CSAT and NPS per branch and month of the period, and for all (branch None, month
    None), over the responses of customers in `scope`."""
    r = survey_responses.c
    rows = conn.execute(
        select(r.branch_id, r.answered_on, r.csat, r.nps)
        .join(customers, customers.c.customer_id == r.customer_id)
        .where(r.answered_on >= start, r.answered_on <= end, scope)
    ).all()
    cfg = policy.relationship.surveys
    groups: dict[tuple[str | None, str | None], list[tuple[int, int]]] = {(None, None): []}
    for branch, day, c, n in rows:
        month = str(day)[:7]
        groups.setdefault((branch, month), []).append((c, n))
        groups[(None, None)].append((c, n))

    def fig(f: Figure) -> dict[str, float | int | None]:
        return {"n": f.n, "value": f.value, "low": f.low, "high": f.high}

    return [
        {
            "branch_id": b,
            "month": m,
            "csat": fig(csat([c for c, _ in v], cfg.csat_satisfied_from, cfg.confidence)),
            "nps": fig(nps([n for _, n in v], cfg.confidence)),
        }
        for (b, m), v in sorted(
            groups.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][1] or "")
        )
    ]


def figures_by_tier(
    conn: Connection, policy: Policy, start: date, end: date, scope: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """CSAT and NPS per tier over the period: each answer counted under the customer's tier
    on the latest tiered date on or before the answer (the tiers area's table, by SQL —
    `relationship.tiers`; one query); `tier` None for answers before any tier (or without the
    tiers area). Tiers best first, then None."""
    r = survey_responses.c
    tier = (
        tier_on_or_before(r.customer_id, r.answered_on).scalar_subquery()
        if has_tiers(conn)
        else literal(None, String)
    )
    rows = conn.execute(
        select(tier.label("tier"), r.csat, r.nps)
        .join(customers, customers.c.customer_id == r.customer_id)
        .where(r.answered_on >= start, r.answered_on <= end, scope)
    ).all()
    cfg = policy.relationship.surveys
    groups: dict[str | None, list[tuple[int, int]]] = {}
    for t, c, n in rows:
        groups.setdefault(t, []).append((int(c), int(n)))
    order: dict[str, int] = {t: i for i, t in enumerate(TIERS)}

    def fig(f: Figure) -> dict[str, float | int | None]:
        return {"n": f.n, "value": f.value, "low": f.low, "high": f.high}

    return [
        {
            "tier": t,
            "csat": fig(csat([c for c, _ in v], cfg.csat_satisfied_from, cfg.confidence)),
            "nps": fig(nps([n for _, n in v], cfg.confidence)),
        }
        for t, v in sorted(groups.items(), key=lambda kv: order.get(kv[0] or "", len(order)))
    ]


MAX_IMPORT_ROWS = 5000
IMPORT_COLUMNS = ("customer_id", "answered_on", "csat", "nps")


def import_csv(
    conn: Connection,
    version_id: int,
    text: str,
    *,
    actor: str,
    today: date,
    known: Callable[[str], bool],
    policy: Policy,
    now: datetime,
) -> int:
    """Responses from CSV text (header `customer_id,answered_on,csat,nps`, then one column per
    question key if wanted, and `invitation_id`, `comment` if wanted), all or nothing: the
    first bad row is refused naming its line.
    `known(customer_id) -> bool` says whether the customer lies in the caller's scope."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not set(IMPORT_COLUMNS) <= set(reader.fieldnames):
        raise InvalidError(f"file: the header needs {', '.join(IMPORT_COLUMNS)}", field="file")
    keys = questions_of(conn, version_id)
    count = 0
    for line, row in enumerate(reader, start=2):
        if count >= MAX_IMPORT_ROWS:
            raise InvalidError(f"file: at most {MAX_IMPORT_ROWS} rows", field="file")
        try:
            customer = (row.get("customer_id") or "").strip()
            if not known(customer):
                raise InvalidError(f"customer_id: no customer {customer!r} in your scope")
            answers = {k: int(row[k]) for k in keys if (row.get(k) or "").strip()}
            record_response(
                conn,
                version_id=version_id,
                customer_id=customer,
                answered_on=parse_business_date(
                    (row.get("answered_on") or "").strip(), "answered_on"
                ),
                csat_score=int(row.get("csat") or ""),
                nps_score=int(row.get("nps") or ""),
                answers=answers,
                source="import",
                actor=actor,
                today=today,
                policy=policy,
                now=now,
                invitation_id=int(row["invitation_id"]) if row.get("invitation_id") else None,
                comment=row.get("comment"),
            )
        except (ValueError, InvalidError, ConflictError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else exc.message
            raise InvalidError(f"line {line}: {message}", field="file") from None
        count += 1
    return count


def response_rates(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """Per invitation wave (the month the invitations went out) and overall (`wave` None): the
    invitations sent (status `invited`; refused ones never went out) in [start, end] to
    customers in `scope`, how many a response answers, and the rate in %. One grouped query
    (per day), months summed here."""
    i, r = survey_invitations.c, survey_responses.c
    per_day = conn.execute(
        select(i.invited_on, func.count(), func.count(r.response_id))
        .select_from(survey_invitations)
        .join(customers, customers.c.customer_id == i.customer_id)
        .outerjoin(survey_responses, r.invitation_id == i.invitation_id)
        .where(i.status == "invited", i.invited_on >= start, i.invited_on <= end, scope)
        .group_by(i.invited_on)
    ).all()
    waves: dict[str | None, list[int]] = {None: [0, 0]}
    for day, sent, answered in per_day:
        for key in (stored_date(day).isoformat()[:7], None):
            counts = waves.setdefault(key, [0, 0])
            counts[0] += int(sent)
            counts[1] += int(answered)
    return [
        {"wave": w, "invited": n, "answered": k, "rate": 100 * k / n if n else None}
        for w, (n, k) in sorted(waves.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]
