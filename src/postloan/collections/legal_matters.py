"""Legal matters (OD-8): a matter's stages, its evidence, documents and costs.

An accepted proposal (`legal_proposals.accept_proposal`) opens a legal matter at
`lawyer_letter` (`open_matter`); it moves forward through `lawsuit → property_preservation →
enforcement → closed` (`TRANSITIONS` says which skips the law allows: see there). Entering a
stage needs that stage's evidence on file (`legal.evidence`; a document whose kind is the item,
or the contact log for `legal.contact_log_evidence`) — else `EvidenceMissing` names the items.
Each stage has its dates (entered, left), a reference (the court's case number) and a note;
documents and costs (minor units, a policy category) are booked against the matter's current
stage. Every change is audited. `legal_costs_in_period` feeds the KPIs' cost ratio.

Pure rules (values in, no database), in `rules.legal` and re-exported here:
`check_transition`, `check_close_reason`, `missing_evidence`, `evidence_sources`,
`limitation_ends`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, func, select, update

from postloan.collections.errors import (
    EvidenceMissing,
    RecordConflict,
    RecordInvalid,
    RecordNotFound,
)
from postloan.collections.legal_tables import (
    legal_costs,
    legal_documents,
    legal_matters,
    legal_stages,
)
from postloan.collections.records import MAX_AMOUNT, audit_change
from postloan.collections.rules.legal import CLOSE_REASONS as CLOSE_REASONS
from postloan.collections.rules.legal import EARLY_CLOSE_REASONS as EARLY_CLOSE_REASONS
from postloan.collections.rules.legal import STAGES as STAGES
from postloan.collections.rules.legal import TRANSITIONS as TRANSITIONS
from postloan.collections.rules.legal import check_close_reason as check_close_reason
from postloan.collections.rules.legal import check_not_before
from postloan.collections.rules.legal import check_transition as check_transition
from postloan.collections.rules.legal import evidence_sources as evidence_sources
from postloan.collections.rules.legal import limitation_ends as limitation_ends
from postloan.collections.rules.legal import missing_evidence as missing_evidence
from postloan.collections.tables import contacts
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status
from postloan.store.values import as_utc, stored_date

# --- reading a matter -----------------------------------------------------------------------


def matter_row(conn: Connection, matter_id: int, *, open_only: bool = True) -> Any:
    """The matter's row; RecordNotFound, or RecordConflict when `open_only` and it is closed."""
    row = conn.execute(select(legal_matters).where(legal_matters.c.matter_id == matter_id)).first()
    if row is None:
        raise RecordNotFound(f"legal matter {matter_id}: not found", "matter_id")
    if open_only and row.status != "open":
        raise RecordConflict(
            f"legal matter {matter_id}: closed on {row.closed_on} ({row.close_reason})", "status"
        )
    return row


def _contact_log(
    conn: Connection, customer_id: str, since: date, policy: Policy
) -> tuple[int, date | None]:
    """How many contacts (demands for payment) the log holds since the episode began (midnight
    in the default jurisdiction), and the date of the last."""
    zone = ZoneInfo(policy.contact.rules_for(None).timezone)
    count, last = conn.execute(
        select(func.count(), func.max(contacts.c.at)).where(
            contacts.c.customer_id == customer_id,
            contacts.c.at >= datetime.combine(since, time.min, tzinfo=zone),
        )
    ).one()
    last_at = as_utc(last)
    return int(count), None if last_at is None else last_at.astimezone(zone).date()


def _documented(conn: Connection, matter_id: int | None) -> dict[str, int]:
    """Evidence kind → the first document that provides it."""
    if matter_id is None:
        return {}
    rows = conn.execute(
        select(legal_documents.c.kind, func.min(legal_documents.c.document_id))
        .where(legal_documents.c.matter_id == matter_id)
        .group_by(legal_documents.c.kind)
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def missing_on_file(conn: Connection, matter_id: int | None, customer_id: str, since: date,
                    stage: str, policy: Policy) -> list[str]:  # fmt: skip
    """`missing_evidence` for the matter (None: one not opened yet) of the customer's case
    episode that began on `since`."""
    have = _documented(conn, matter_id)
    logged = _contact_log(conn, customer_id, since, policy)[0] > 0
    return missing_evidence(policy.legal, stage, have, logged)


def evidence_checklist(conn: Connection, matter_id: int, policy: Policy) -> list[dict[str, Any]]:
    """Every stage's evidence items for the matter (`evidence_sources`)."""
    row = matter_row(conn, matter_id, open_only=False)
    have = _documented(conn, matter_id)
    logged = _contact_log(conn, row.customer_id, stored_date(row.case_opened_on), policy)[0] > 0
    return evidence_sources(policy.legal, have, logged)


@dataclass(frozen=True)
class MatterDetail:
    matter: dict[str, Any]
    stages: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    costs: list[dict[str, Any]]
    checklist: list[dict[str, Any]]
    total_cost: int
    demands: int  # contacts logged in the episode
    last_demand_on: date | None
    limitation_ends_on: date | None  # last demand + the limitation period (Art. 188/195)


def matter_detail(conn: Connection, matter_id: int, policy: Policy) -> MatterDetail:
    row = matter_row(conn, matter_id, open_only=False)

    def rows(table: Any, order: Any) -> list[dict[str, Any]]:
        found = conn.execute(select(table).where(table.c.matter_id == matter_id).order_by(order))
        return [dict(r._mapping) for r in found]

    stage_rank = {s: i for i, s in enumerate(STAGES)}
    stages = sorted(rows(legal_stages, legal_stages.c.entered_on),
                    key=lambda r: stage_rank[r["stage"]])  # fmt: skip
    costs = rows(legal_costs, legal_costs.c.cost_id)
    demands, last = _contact_log(conn, row.customer_id, stored_date(row.case_opened_on), policy)
    return MatterDetail(
        matter=dict(row._mapping),
        stages=stages,
        documents=rows(legal_documents, legal_documents.c.document_id),
        costs=costs,
        checklist=evidence_checklist(conn, matter_id, policy),
        total_cost=sum(int(c["amount"]) for c in costs),
        demands=demands,
        last_demand_on=last,
        limitation_ends_on=limitation_ends(last, policy.legal.limitation_years),
    )


# --- the legal officer's changes --------------------------------------------------------------


def open_matter(
    conn: Connection, *, proposal_id: int, customer_id: str, case_opened_on: Any, on: date,
    user: str, note: str | None,
) -> int:  # fmt: skip
    """Open the matter of an accepted proposal at `lawyer_letter` from `on`, claiming the
    customer's outstanding principal and overdue interest on the latest stored date; returns
    its id. The proposal's acceptance (`legal_proposals.accept_proposal`) checks and audits."""
    latest = latest_stored_date(conn)
    owed = account_status.c.outstanding_principal + account_status.c.overdue_interest
    claim = conn.execute(
        select(func.coalesce(func.sum(owed), 0)).where(
            account_status.c.customer_id == customer_id, account_status.c.as_of == latest
        )
    ).scalar()
    key = conn.execute(
        legal_matters.insert().values(
            proposal_id=proposal_id, customer_id=customer_id, case_opened_on=case_opened_on,
            stage="lawyer_letter", status="open", opened_on=on, claim_amount=int(claim or 0),
            owner=user,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    matter_id = int(key[0])
    conn.execute(
        legal_stages.insert().values(
            matter_id=matter_id, stage="lawyer_letter", entered_on=on, entered_by=user, note=note
        )
    )
    return matter_id


def advance_matter(
    conn: Connection, matter_id: int, to: str, policy: Policy, *, user: str, on: date,
    now: datetime, reference: str | None = None, note: str | None = None,
    close_reason: str | None = None,
) -> None:  # fmt: skip
    """Move a matter to stage `to` on date `on` (see TRANSITIONS and the module doc)."""
    row = matter_row(conn, matter_id)
    check_transition(matter_id, row.stage, to)
    current = conn.execute(
        select(legal_stages.c.entered_on).where(
            legal_stages.c.matter_id == matter_id, legal_stages.c.stage == row.stage
        )
    ).scalar()
    check_not_before(f"legal matter {matter_id}", on, stored_date(current), f"{row.stage} began")
    check_close_reason(matter_id, row.stage, to, close_reason)
    if to != "closed":
        missing = missing_on_file(
            conn, matter_id, row.customer_id, stored_date(row.case_opened_on), to, policy
        )
        if missing:
            raise EvidenceMissing(f"legal matter {matter_id}", to, missing)
    conn.execute(
        update(legal_stages)
        .where(legal_stages.c.matter_id == matter_id, legal_stages.c.stage == row.stage)
        .values(left_on=on)
    )
    if to == "closed":
        conn.execute(
            update(legal_matters)
            .where(legal_matters.c.matter_id == matter_id)
            .values(stage="closed", status="closed", closed_on=on, close_reason=close_reason)
        )
    else:
        conn.execute(
            legal_stages.insert().values(matter_id=matter_id, stage=to, entered_on=on,
                                         reference=reference, entered_by=user, note=note)
        )  # fmt: skip
        conn.execute(
            update(legal_matters).where(legal_matters.c.matter_id == matter_id).values(stage=to)
        )
    audit_change(conn, user, "legal.advance", "legal_matter", matter_id,
                 {"from": row.stage, "to": to, "on": on.isoformat(), "reference": reference,
                  "close_reason": close_reason}, now)  # fmt: skip


def add_document(
    conn: Connection, matter_id: int, *, name: str, kind: str, reference: str, user: str,
    now: datetime, dated_on: date | None = None,
) -> int:  # fmt: skip
    """Book a document (name, kind, where it is kept) against the matter's current stage. A
    document whose kind is an evidence item of the policy is that evidence."""
    row = matter_row(conn, matter_id)
    for field, value, limit in (("name", name, 200), ("kind", kind, 48), ("reference", reference,
                                                                           2000)):  # fmt: skip
        if not value or not value.strip():
            raise RecordInvalid(f"legal matter {matter_id}: {field}: must not be empty", field)
        if len(value) > limit:
            raise RecordInvalid(
                f"legal matter {matter_id}: {field}: at most {limit} characters", field
            )
    key = conn.execute(
        legal_documents.insert().values(
            matter_id=matter_id, stage=row.stage, name=name, kind=kind, reference=reference,
            dated_on=dated_on, added_by=user, added_at=now,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    document_id = int(key[0])
    audit_change(conn, user, "legal.document", "legal_matter", matter_id,
                 {"document_id": document_id, "kind": kind, "name": name}, now)  # fmt: skip
    return document_id


def add_evidence(
    conn: Connection, matter_id: int, item: str, policy: Policy, *, name: str, reference: str,
    user: str, now: datetime, dated_on: date | None = None,
) -> int:  # fmt: skip
    """Provide one item of the evidence checklist (a document of that kind)."""
    if item not in policy.legal.all_items:
        raise RecordInvalid(
            f"legal matter {matter_id}: item: {item!r} is not on the evidence checklist "
            f"({', '.join(policy.legal.all_items)})",
            "item",
        )
    return add_document(conn, matter_id, name=name, kind=item, reference=reference, user=user,
                        now=now, dated_on=dated_on)  # fmt: skip


def add_cost(
    conn: Connection, matter_id: int, policy: Policy, *, category: str, amount: int,
    incurred_on: date, user: str, now: datetime, note: str | None = None,
) -> int:  # fmt: skip
    """Book a legal cost (minor units) against the matter's current stage."""
    row = matter_row(conn, matter_id)
    if category not in policy.legal.cost_categories:
        raise RecordInvalid(
            f"legal matter {matter_id}: category: {category!r} is not one of "
            f"{', '.join(policy.legal.cost_categories)}",
            "category",
        )
    if not 0 < amount <= MAX_AMOUNT:
        raise RecordInvalid(f"legal matter {matter_id}: amount: must be positive", "amount")
    if incurred_on < stored_date(row.opened_on):
        raise RecordInvalid(
            f"legal matter {matter_id}: incurred_on: {incurred_on} is before the matter opened "
            f"({row.opened_on})",
            "incurred_on",
        )
    key = conn.execute(
        legal_costs.insert().values(
            matter_id=matter_id, stage=row.stage, category=category, amount=amount,
            incurred_on=incurred_on, note=note, recorded_by=user, recorded_at=now,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    cost_id = int(key[0])
    audit_change(conn, user, "legal.cost", "legal_matter", matter_id,
                 {"cost_id": cost_id, "category": category, "amount": amount}, now)  # fmt: skip
    return cost_id


# --- for the KPIs: legal costs per period ---------------------------------------------------

LEGAL_COSTS = {
    "cost_id": pl.Int64, "matter_id": pl.Int64, "customer_id": pl.String, "owner": pl.String,
    "stage": pl.String, "category": pl.String, "amount": pl.Int64, "incurred_on": pl.Date,
    "recorded_by": pl.String,
}  # fmt: skip


def legal_costs_in_period(conn: Connection, start: date, end: date) -> pl.DataFrame:
    """Legal costs incurred in [start, end] (LEGAL_COSTS), with the matter's customer and owner
    (the legal officer) — for the collection cost ratio."""
    c, m = legal_costs, legal_matters
    rows = conn.execute(
        select(c.c.cost_id, c.c.matter_id, m.c.customer_id, m.c.owner, c.c.stage, c.c.category,
               c.c.amount, c.c.incurred_on, c.c.recorded_by)
        .join(m, m.c.matter_id == c.c.matter_id)
        .where(c.c.incurred_on >= start, c.c.incurred_on <= end)
        .order_by(c.c.incurred_on, c.c.cost_id)
    ).all()  # fmt: skip
    return pl.DataFrame(
        [(*r[:7], stored_date(r[7]), r[8]) for r in rows], schema=LEGAL_COSTS, orient="row"
    )
