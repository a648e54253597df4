"""Survey results back to the departments (CR-2, seed 003): the department feedback report and
the low-score follow-ups (`rules.feedback` computes both from a frame of scores). Flushes,
never commits.

- `department_report`: per department (the owner of each questionnaire dimension,
  `[relationship.surveys.departments]`), each dimension's CSAT with Wilson's interval by month
  or quarter and its change against the period before; the verbatim comments of responses that
  scored one of the department's dimensions low (customers in the caller's scope only; digits
  that could be a phone, ID or card number masked for the caller's role); the department's
  open follow-ups. For the API, the workbench and `postloan report satisfaction --by
  department`.
- `open_followups`: a response scoring an owned dimension at or below `low_score` opens one
  follow-up per (response, department) — called wherever a response lands (workbench, API,
  import); re-calling it opens nothing twice (an anti-join, and a unique key).
- `close_followup`: the department's answer, audited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from postloan.access import audit
from postloan.access.masking import mask_value, sees_personal_data
from postloan.errors import ConflictError, InvalidError, NotFoundError
from postloan.policy import Policy
from postloan.relationship.rules.feedback import (
    PERIODS,
    SCORES,
    department_figures,
    low_scores,
    period_start,
    periods_between,
    previous_start,
)
from postloan.relationship.tables import survey_followups, survey_responses, survey_versions
from postloan.store.schema import customers
from postloan.store.values import stored_date

R, F = survey_responses.c, survey_followups.c
MAX_COMMENTS = 100  # per department: the report lists the latest
MAX_FOLLOWUPS = 100  # open ones listed per department (all counted)
MAX_NOTE = 2000
# digit runs that could be a phone, PRC ID or card number (7+ digits, spaces or dashes inside)
_NUMBERISH = re.compile(r"\+?\d[\d -]{5,}[\dXx]")


def question_keys(conn: Connection) -> list[str]:
    """Every question key of every questionnaire version (a handful)."""
    keys: set[str] = set()
    for text in conn.execute(select(survey_versions.c.questions)).scalars():
        keys |= set(json.loads(text))
    return sorted(keys)


def scores(conn: Connection, where: Sequence[ColumnElement[bool]]) -> pl.DataFrame:
    """One row per (response, dimension scored) of the responses matching `where`; the answers'
    JSON decoded by polars over the column (no per-response loop)."""
    keys = question_keys(conn)
    rows = conn.execute(
        select(R.response_id, R.customer_id, R.answered_on, R.answers)
        .join(customers, customers.c.customer_id == R.customer_id)
        .where(*where)
    ).all()
    if not keys or not rows:
        return pl.DataFrame(schema=SCORES)
    frame = pl.DataFrame(
        [(int(r[0]), r[1], stored_date(r[2]), r[3]) for r in rows],
        schema={"response_id": pl.Int64, "customer_id": pl.String, "answered_on": pl.Date,
                "answers": pl.String},
        orient="row",
    )  # fmt: skip
    struct = pl.Struct({k: pl.Int64 for k in keys})
    wide = frame.with_columns(pl.col("answers").str.json_decode(struct)).unnest("answers")
    return (
        wide.unpivot(keys, index=["response_id", "customer_id", "answered_on"],
                     variable_name="dimension", value_name="score")
        .drop_nulls("score")
        .select(list(SCORES))
        .cast(SCORES)  # type: ignore[arg-type]
    )  # fmt: skip


def open_followups(
    conn: Connection, policy: Policy, response_ids: Sequence[int], now: datetime
) -> int:
    """Follow-ups for these responses' low scores not opened yet; returns how many opened."""
    if not response_ids:
        return 0
    cfg = policy.relationship.surveys
    wanted = low_scores(
        scores(conn, [R.response_id.in_(list(response_ids))]), cfg.departments, cfg.low_score
    )
    if wanted.is_empty():
        return 0
    have = pl.DataFrame(
        conn.execute(
            select(F.response_id, F.department).where(
                F.response_id.in_(wanted["response_id"].unique().to_list())
            )
        ).all(),
        schema={"response_id": pl.Int64, "department": pl.String},
        orient="row",
    )
    new = wanted.join(have, on=["response_id", "department"], how="anti")
    if new.is_empty():
        return 0
    conn.execute(
        insert(survey_followups),
        new.with_columns(
            pl.lit("open").alias("status"), pl.lit(now).alias("created_at")
        ).to_dicts(),
    )
    return new.height


def all_followups(conn: Connection, policy: Policy, now: datetime) -> int:
    """Every stored response's missing follow-ups (after a policy change of owners or of
    `low_score`); idempotent."""
    ids = list(conn.execute(select(R.response_id)).scalars())
    return open_followups(conn, policy, ids, now)


def close_followup(
    conn: Connection, followup_id: int, note: str, *, actor: str, now: datetime
) -> None:
    text = note.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidError(f"note: 1 to {MAX_NOTE} characters", field="note")
    row = conn.execute(select(survey_followups).where(F.followup_id == followup_id)).first()
    if row is None:
        raise NotFoundError(f"no follow-up {followup_id}")
    if row.status != "open":
        raise ConflictError(f"follow-up {followup_id} is already closed")
    conn.execute(
        update(survey_followups)
        .where(F.followup_id == followup_id)
        .values(status="closed", closed_by=actor, closed_at=now, note=text)
    )
    audit.record(
        conn, actor=actor, action="survey.followup_closed", target_type="survey_followup",
        target_id=str(followup_id),
        detail={"response_id": row.response_id, "department": row.department}, now=now,
    )  # fmt: skip


def mask_comment(text: str, role: str) -> str:
    """The customer's words as written, but any run of digits that could be a phone, ID or
    card number masked for `role` (withheld entirely for a role that sees no personal data)."""
    shown = sees_personal_data(role)
    return _NUMBERISH.sub(lambda m: mask_value(m.group(0), role) if shown else "****", text)


def department_report(
    conn: Connection,
    policy: Policy,
    start: date,
    end: date,
    period: str,
    scope: ColumnElement[bool],
    role: str,
) -> dict[str, Any]:
    """The department feedback report (module doc). Periods are whole calendar months or
    quarters, from the one holding `start` to the one holding `end`."""
    if period not in PERIODS:
        raise InvalidError(f"period: one of {', '.join(PERIODS)}", field="period")
    cfg = policy.relationship.surveys
    labels = periods_between(start, end, period)
    first = previous_start(start, period)
    frame = scores(conn, [R.answered_on >= first, R.answered_on <= end, scope])
    departments = department_figures(
        frame, cfg.departments, labels, period, cfg.csat_satisfied_from, cfg.confidence
    )
    in_range = frame.filter(pl.col("answered_on") >= period_start(start, period))
    low = low_scores(in_range, cfg.departments, cfg.low_score)
    comments = _comments(conn, low, role)
    followups = _followups(conn, scope, [d["department"] for d in departments])
    for d in departments:
        name = d["department"]
        d["comments"] = comments.get(name, [])
        d["open_followups"] = followups.get(name, {"count": 0, "items": []})
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        "periods": labels,
        "confidence": cfg.confidence,
        "csat_satisfied_from": cfg.csat_satisfied_from,
        "low_score": cfg.low_score,
        "departments": departments,
    }


def _comments(conn: Connection, low: pl.DataFrame, role: str) -> dict[str, list[dict[str, Any]]]:
    """The low-scoring responses' comments per department, newest first."""
    if low.is_empty():
        return {}
    ids = low["response_id"].unique().to_list()
    rows = {
        int(r.response_id): r
        for r in conn.execute(
            select(
                R.response_id, R.customer_id, R.branch_id, R.answered_on, R.comment, R.answers
            ).where(R.response_id.in_(ids), R.comment.is_not(None), R.comment != "")
        )
    }
    out: dict[str, list[dict[str, Any]]] = {}
    ordered = low.filter(pl.col("response_id").is_in(list(rows))).sort(
        "answered_on", "response_id", descending=True
    )
    for rid, dept, dims in ordered.select("response_id", "department", "dimensions").iter_rows():
        items = out.setdefault(dept, [])
        if len(items) >= MAX_COMMENTS:
            continue
        r = rows[rid]
        answers = json.loads(r.answers)
        items.append({
            "response_id": rid, "customer_id": r.customer_id, "branch_id": r.branch_id,
            "answered_on": stored_date(r.answered_on).isoformat(),
            "low": {k: answers[k] for k in dims.split(",")},
            "comment": mask_comment(r.comment, role),
        })  # fmt: skip
    return out


def _followups(
    conn: Connection, scope: ColumnElement[bool], departments: list[str | None]
) -> dict[str, dict[str, Any]]:
    """Open follow-ups in scope per department: the count (one grouped query) and the latest
    `MAX_FOLLOWUPS` (one query per department: a handful)."""
    open_in_scope = (
        select(F.department, func.count())
        .join(customers, customers.c.customer_id == F.customer_id)
        .where(F.status == "open", scope)
        .group_by(F.department)
    )
    out: dict[str, dict[str, Any]] = {
        d: {"count": int(n), "items": []} for d, n in conn.execute(open_in_scope).all()
    }
    for dept in departments:
        if dept not in out:
            continue
        rows = conn.execute(
            select(F.followup_id, F.response_id, F.customer_id, F.answered_on, F.dimensions,
                   F.lowest)
            .join(customers, customers.c.customer_id == F.customer_id)
            .where(F.status == "open", F.department == dept, scope)
            .order_by(F.answered_on.desc(), F.followup_id.desc())
            .limit(MAX_FOLLOWUPS)
        ).all()  # fmt: skip
        out[dept]["items"] = [
            {"followup_id": r.followup_id, "response_id": r.response_id,
             "customer_id": r.customer_id, "answered_on": stored_date(r.answered_on).isoformat(),
             "dimensions": r.dimensions, "lowest": r.lowest}
            for r in rows
        ]  # fmt: skip
    return out
