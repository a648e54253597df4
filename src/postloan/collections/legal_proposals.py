"""Proposals of legal action (OD-8), and the legal officer's decision on them.

`propose_legal_action` (a daily-run step, after the cases) proposes legal action once per case
*episode* — a customer's case, named by the date it opened, since case ids change when cases
are rebuilt — on the first stored date on which (a) one of the customer's accounts is at DPD ≥
`collections.legal_min_dpd` and (b) at least `collections.legal_min_failed_contacts` contacts
of the episode so far failed (`legal.failed_contact_outcomes`, dated on the calendar of the
contact's jurisdiction). An account written off or disposed of (`disposals`) no longer counts.
It is set-based: one SQL query for the qualifying dates, one for the failed contacts, polars for
the rest. Re-running dates proposes again what those dates proposed and nobody acted on — the
same row when the episode still qualifies (its id stays), none when it no longer does — so a
re-run neither duplicates nor loses one; accepted and declined proposals stay.

A legal officer accepts a proposal (`accept_proposal`: it opens the episode's legal matter,
`legal_matters.open_matter`, once the lawyer's letter's evidence is on file) or declines it
with a reason (`decline_proposal`). The decisions live here, with the proposal they decide;
what happens to the matter after is `legal_matters`.

Pure rules (frames in, no database), in `rules.legal` and re-exported here: `legal_candidates`,
`episode_contact_days`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from postloan.collections.errors import (
    EvidenceMissing,
    RecordConflict,
    RecordNotFound,
)
from postloan.collections.legal_matters import missing_on_file, open_matter
from postloan.collections.legal_tables import account_disposals, legal_proposals
from postloan.collections.records import audit_change
from postloan.collections.rules.legal import PROPOSALS as PROPOSALS
from postloan.collections.rules.legal import check_decline_note, check_not_before
from postloan.collections.rules.legal import episode_contact_days as episode_contact_days
from postloan.collections.rules.legal import legal_candidates as legal_candidates
from postloan.collections.tables import cases, contacts
from postloan.policy import Policy
from postloan.store.schema import account_status
from postloan.store.values import as_date, stored_date

# --- the daily step: proposals -----------------------------------------------------------------


def _settled(first: date) -> Any:
    """Proposals a re-run from `first` keeps as they are: decided ones, and undecided ones made
    before `first`."""
    p = legal_proposals.c
    return or_(p.status != "proposed", p.proposed_on < first)


def _proposed_episode(c: Any, first: date) -> Any:
    """The settled proposal of case `c`'s episode (a subquery): that episode needs no work."""
    return select(legal_proposals.c.proposal_id).where(
        legal_proposals.c.customer_id == c.c.customer_id,
        legal_proposals.c.case_opened_on == c.c.opened_on,
        _settled(first),
    )


def _qualifying_days(conn: Connection, first: date, last: date, min_dpd: int) -> pl.DataFrame:
    """Per case episode and stored date in [first, last] with an account at DPD ≥ min_dpd
    inside the episode: the customer's worst DPD and total overdue amount that day."""
    s, c = account_status, cases
    in_case = and_(
        s.c.customer_id == c.c.customer_id,
        s.c.as_of >= c.c.opened_on,
        or_(c.c.closed_on.is_(None), s.c.as_of < c.c.closed_on),
    )
    gone = select(account_disposals.c.account_id).where(
        account_disposals.c.status == "approved",
        account_disposals.c.account_id == s.c.account_id,
        account_disposals.c.effective_on <= s.c.as_of,
    )
    rows = conn.execute(
        select(
            c.c.customer_id, c.c.opened_on, s.c.as_of,
            func.max(s.c.dpd).label("max_dpd"), func.sum(s.c.overdue_amount).label("overdue"),
        )
        .join(c, in_case)
        .where(s.c.as_of >= first, s.c.as_of <= last, s.c.dpd > 0, ~gone.exists(),
               ~_proposed_episode(c, first).exists())
        .group_by(c.c.customer_id, c.c.opened_on, s.c.as_of)
        .having(func.max(s.c.dpd) >= min_dpd)
    ).all()  # fmt: skip
    return pl.DataFrame(
        [(r[0], stored_date(r[1]), stored_date(r[2]), int(r[3]), int(r[4])) for r in rows],
        schema={"customer_id": pl.String, "case_opened_on": pl.Date, "as_of": pl.Date,
                "max_dpd": pl.Int64, "overdue_amount": pl.Int64},
        orient="row",
    )  # fmt: skip


def failed_contacts(conn: Connection, first: date, last: date, policy: Policy) -> pl.DataFrame:
    """Failed contacts of every case episode open at some point in [first, last] of a customer
    at DPD ≥ legal_min_dpd in it: customer_id, case_opened_on, on (the contact's date in its
    jurisdiction), sorted."""
    c = cases
    rows = conn.execute(
        select(contacts.c.customer_id, c.c.opened_on, c.c.closed_on, contacts.c.at,
               contacts.c.jurisdiction)
        .join(c, c.c.customer_id == contacts.c.customer_id)
        .where(
            contacts.c.outcome.in_(list(policy.legal.failed_contact_outcomes)),
            c.c.opened_on <= last,
            or_(c.c.closed_on.is_(None), c.c.closed_on > first),
            ~_proposed_episode(c, first).exists(),
            # only customers who reach the DPD threshold in the window can be proposed
            contacts.c.customer_id.in_(
                select(account_status.c.customer_id).where(
                    account_status.c.as_of >= first, account_status.c.as_of <= last,
                    account_status.c.dpd >= policy.collections.legal_min_dpd,
                )
            ),
        )
    ).all()  # fmt: skip
    frame = pl.DataFrame(
        [(r[0], stored_date(r[1]), as_date(r[2]), r[3], r[4]) for r in rows],
        schema={"customer_id": pl.String, "case_opened_on": pl.Date, "closed_on": pl.Date,
                "at": pl.Datetime("us", "UTC"), "jurisdiction": pl.String},
        orient="row",
    )  # fmt: skip
    return episode_contact_days(frame, policy.contact)


def forget_proposals_from(conn: Connection, first: date) -> None:
    """Drop the proposals made from `first` on that nobody has acted on (when those dates are
    gone; a re-run of them re-proposes in place instead, keeping the ids)."""
    conn.execute(delete(legal_proposals).where(~_settled(first)))


def propose_legal_action(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.steps`): see module doc."""
    if not days:
        return
    first, last = days[0], days[-1]
    rules = policy.collections
    qualifying = _qualifying_days(conn, first, last, rules.legal_min_dpd)
    fresh = pl.DataFrame(schema=PROPOSALS)
    if qualifying.height:
        fresh = legal_candidates(
            qualifying, failed_contacts(conn, first, last, policy), rules.legal_min_failed_contacts
        )
    # What these dates proposed before and nobody acted on is proposed again: the same row
    # (its id stays) when the episode still qualifies, gone when it no longer does.
    p = legal_proposals
    pending = conn.execute(
        select(p.c.proposal_id, p.c.customer_id, p.c.case_opened_on).where(~_settled(first))
    ).all()
    episode = ["customer_id", "case_opened_on"]
    redone = pl.DataFrame(
        [(int(r[0]), r[1], stored_date(r[2])) for r in pending],
        schema={"proposal_id": pl.Int64, "customer_id": pl.String, "case_opened_on": pl.Date},
        orient="row",
    ).join(fresh, on=episode, how="left")
    gone = redone.filter(pl.col("proposed_on").is_null())["proposal_id"].to_list()
    if gone:
        conn.execute(delete(p).where(p.c.proposal_id.in_(gone)))
    again = redone.filter(pl.col("proposed_on").is_not_null())
    if again.height:
        conn.execute(
            update(p).where(p.c.proposal_id == bindparam("pid")).values(
                proposed_on=bindparam("on"), max_dpd=bindparam("dpd"),
                failed_contacts=bindparam("failed"), overdue_amount=bindparam("amount"),
            ),
            [{"pid": r["proposal_id"], "on": r["proposed_on"], "dpd": r["max_dpd"],
              "failed": r["failed_contacts"], "amount": r["overdue_amount"]}
             for r in again.to_dicts()],
        )  # fmt: skip
    new = fresh.join(redone.select(episode), on=episode, how="anti")
    if new.height:
        conn.execute(p.insert(), [{**r, "status": "proposed"} for r in new.to_dicts()])


# --- the legal officer's decision -------------------------------------------------------------


def _proposal(conn: Connection, proposal_id: int) -> Any:
    row = conn.execute(
        select(legal_proposals).where(legal_proposals.c.proposal_id == proposal_id)
    ).first()
    if row is None:
        raise RecordNotFound(f"legal proposal {proposal_id}: not found", "proposal_id")
    if row.status != "proposed":
        raise RecordConflict(
            f"legal proposal {proposal_id}: already {row.status} by {row.decided_by}", "status"
        )
    return row


def accept_proposal(
    conn: Connection, proposal_id: int, policy: Policy, *, user: str, on: date, now: datetime,
    note: str | None = None,
) -> int:  # fmt: skip
    """Open a legal matter from a proposal, at `lawyer_letter` from `on`; returns its id."""
    row = _proposal(conn, proposal_id)
    case = conn.execute(
        select(cases.c.status, cases.c.closed_on, cases.c.close_reason).where(
            cases.c.customer_id == row.customer_id, cases.c.opened_on == row.case_opened_on
        )
    ).first()
    if case is None or case.status != "open":
        why = "no longer exists" if case is None else (
            f"closed on {stored_date(case.closed_on)} ({case.close_reason})"
        )  # fmt: skip
        raise RecordConflict(f"legal proposal {proposal_id}: the case {why}", "proposal_id")
    check_not_before(f"legal proposal {proposal_id}", on, stored_date(row.proposed_on),
                     "the proposal")  # fmt: skip
    opened_on = stored_date(row.case_opened_on)
    missing = missing_on_file(conn, None, row.customer_id, opened_on, "lawyer_letter", policy)
    if missing:
        raise EvidenceMissing(f"legal proposal {proposal_id}", "lawyer_letter", missing)
    conn.execute(
        update(legal_proposals)
        .where(legal_proposals.c.proposal_id == proposal_id)
        .values(status="accepted", decided_by=user, decided_at=now, decision_note=note)
    )
    matter_id = open_matter(conn, proposal_id=proposal_id, customer_id=row.customer_id,
                            case_opened_on=row.case_opened_on, on=on, user=user,
                            note=note)  # fmt: skip
    audit_change(conn, user, "legal.accept", "legal_proposal", proposal_id,
                 {"matter_id": matter_id, "customer_id": row.customer_id, "on": on.isoformat()},
                 now)  # fmt: skip
    return matter_id


def decline_proposal(
    conn: Connection, proposal_id: int, *, user: str, note: str, now: datetime
) -> None:
    """Decline a proposal, with the reason (kept; a re-run does not propose it again)."""
    check_decline_note(proposal_id, note)
    row = _proposal(conn, proposal_id)
    conn.execute(
        update(legal_proposals)
        .where(legal_proposals.c.proposal_id == proposal_id)
        .values(status="declined", decided_by=user, decided_at=now, decision_note=note)
    )
    audit_change(conn, user, "legal.decline", "legal_proposal", proposal_id,
                 {"customer_id": row.customer_id, "note": note}, now)  # fmt: skip
