"""Legal action (OD-8), write-off and asset disposal (OD-10).

**Proposals.** `propose_legal_action` (a daily-run step, after the cases) proposes legal action
once per case *episode* — a customer's case, named by the date it opened, since case ids change
when cases are rebuilt — on the first stored date on which (a) one of the customer's accounts
is at DPD ≥ `collections.legal_min_dpd` and (b) at least `collections.legal_min_failed_contacts`
contacts of the episode so far failed (`legal.failed_contact_outcomes`, dated on the calendar of
the contact's jurisdiction). It is set-based: one SQL query for the qualifying dates, one for
the failed contacts, polars for the rest. Re-running dates proposes again what those dates
proposed and nobody acted on — the same row when the episode still qualifies (its id stays),
none when it no longer does — so a re-run neither duplicates nor loses one; accepted and
declined proposals stay.

**Matters.** An accepted proposal opens a legal matter at `lawyer_letter`; it moves forward
through `lawsuit → property_preservation → enforcement → closed` (`TRANSITIONS` says which
skips the law allows: see there). Entering a stage needs that stage's evidence on file
(`legal.evidence`; a document whose kind is the item, or the contact log for
`legal.contact_log_evidence`) — else `EvidenceMissing` names the items. Each stage has its
dates (entered, left), a reference (the court's case number) and a note; documents and costs
(minor units, a policy category) are booked against the matter's current stage. Every change is
audited.

**Disposals.** A write-off (核销) or asset disposal (资产处置) of one account is proposed by one
user and approved by another (`writeoff.approve`; maker-checker). It takes effect from a
business date not yet run (`effective_on` after the latest stored date: reported dates are
never restated). From then on the account is out of the performing pool
(`reports.summary`), out of the cases (`without_disposed`, the one hook in
`collections.service`; a case left with nothing overdue closes, and the run labels that closure
`written_off` / `disposed`), and payments on it count as recoveries. Its status rows stay:
the debt is still owed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from postloan.access import audit
from postloan.collections.legal_tables import (
    account_disposals,
    legal_costs,
    legal_documents,
    legal_matters,
    legal_proposals,
    legal_stages,
)
from postloan.collections.tables import case_accounts, cases, contacts
from postloan.policy import Policy
from postloan.policy.legal import LEGAL_STAGES
from postloan.store.schema import account_status, payments
from postloan.store.values import as_date, as_utc, stored_date

# --- the stages and what the law lets a matter skip --------------------------------------------

STAGES = (*LEGAL_STAGES, "closed")

# Forward only. Skips the law allows, explicitly:
# - lawsuit → enforcement: property preservation is an application the creditor *may* make
#   (Civil Procedure Law Art. 103), not a step every suit goes through;
# - any stage → closed: the creditor may stop at any point — the debt repaid, a settlement
#   (a mediation statement or an enforcement settlement, 执行和解), or withdrawing the suit
#   (撤诉). Closing before enforcement takes one of EARLY_CLOSE_REASONS.
# Not allowed: enforcement before a lawsuit (it needs an effective judgment or other
# enforceable instrument) and going back (a new matter is a new proposal).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "lawyer_letter": ("lawsuit", "closed"),
    "lawsuit": ("property_preservation", "enforcement", "closed"),
    "property_preservation": ("enforcement", "closed"),
    "enforcement": ("closed",),
}
EARLY_CLOSE_REASONS = ("repaid", "settled", "withdrawn")
# Enforcement ends when it has collected (enforced) or the court ends it for want of assets
# (终结本次执行: uncollectable) — then write-off is the usual next step.
CLOSE_REASONS = (*EARLY_CLOSE_REASONS, "enforced", "uncollectable")

DISPOSAL_KINDS = ("write_off", "asset_disposal")
# The cases' close_reason for a case closed because its accounts were taken out of the books.
CASE_CLOSE_REASON = {"write_off": "written_off", "asset_disposal": "disposed"}


# --- errors: each names the record and the field ------------------------------------------------


class LegalError(Exception):
    """Base: `field` names the input at fault (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class LegalNotFound(LegalError):
    """No such proposal, matter, disposal or account."""


class LegalInvalid(LegalError):
    """Bad input: a value out of range, an unknown category, a date before its stage."""


class LegalConflict(LegalError):
    """The record is not in a state that allows the change (decided already, closed, …)."""


class EvidenceMissing(LegalConflict):
    """A stage's evidence items are not all on file; `missing` names them."""

    def __init__(self, where: str, stage: str, missing: Sequence[str]) -> None:
        super().__init__(
            f"{where}: stage: cannot enter {stage}: evidence missing: " + ", ".join(missing),
            "stage",
        )
        self.missing = list(missing)


class SameUser(LegalError):
    """Maker-checker: the proposer of a disposal may not decide it."""


# --- the daily step: proposals -----------------------------------------------------------------

PROPOSALS = {
    "customer_id": pl.String, "case_opened_on": pl.Date, "proposed_on": pl.Date,
    "max_dpd": pl.Int64, "failed_contacts": pl.Int64, "overdue_amount": pl.Int64,
}  # fmt: skip


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
    # The contact's date on its jurisdiction's calendar (one zone per jurisdiction).
    default_zone = policy.contact.rules_for(None).timezone
    on = pl.col("at").dt.convert_time_zone(default_zone).dt.date()
    for code in sorted(set(frame["jurisdiction"].to_list())):
        zone = policy.contact.rules_for(code).timezone
        if zone != default_zone:
            local = pl.col("at").dt.convert_time_zone(zone).dt.date()
            on = pl.when(pl.col("jurisdiction") == code).then(local).otherwise(on)
    return (
        frame.with_columns(on.alias("on"))
        .filter(
            (pl.col("on") >= pl.col("case_opened_on"))
            & (pl.col("closed_on").is_null() | (pl.col("on") < pl.col("closed_on")))
        )
        .select("customer_id", "case_opened_on", "on")
        .sort("customer_id", "case_opened_on", "on")
    )


def legal_candidates(
    qualifying: pl.DataFrame, failed: pl.DataFrame, min_failed: int
) -> pl.DataFrame:
    """The first qualifying date of each episode on which it has had `min_failed` failed
    contacts (PROPOSALS). Pure: `qualifying` from `_qualifying_days`, `failed` from
    `failed_contacts` (sorted).

    Failed contacts only accumulate within an episode, so the episode qualifies from the date
    of its N-th failed contact on: no (date × contact) product is needed."""
    episode = ["customer_id", "case_opened_on"]
    if min_failed > 0:
        nth = (
            failed.group_by(episode)
            .agg(pl.col("on").sort().get(min_failed - 1, null_on_oob=True).alias("from"))
            .filter(pl.col("from").is_not_null())
        )
        qualifying = qualifying.join(nth, on=episode, how="inner").filter(
            pl.col("as_of") >= pl.col("from")
        )
    first = (
        qualifying.sort([*episode, "as_of"])
        .group_by(episode, maintain_order=True)
        .first()
        .select(*episode, pl.col("as_of").alias("proposed_on"), "max_dpd", "overdue_amount")
    )
    counted = (
        first.join(failed, on=episode, how="inner")
        .filter(pl.col("on") <= pl.col("proposed_on"))
        .group_by(episode)
        .agg(pl.len().alias("failed_contacts"))
    )
    return (
        first.join(counted, on=episode, how="left")
        .with_columns(pl.col("failed_contacts").fill_null(0))
        .select(list(PROPOSALS))
        .cast(PROPOSALS)  # type: ignore[arg-type]
        .sort(episode)
    )


def forget_proposals_from(conn: Connection, first: date) -> None:
    """Drop the proposals made from `first` on that nobody has acted on (when those dates are
    gone; a re-run of them re-proposes in place instead, keeping the ids)."""
    conn.execute(delete(legal_proposals).where(~_settled(first)))


def propose_legal_action(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`): see module doc.
    Also labels the cases these dates closed because their accounts were written off."""
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
    label_disposal_closures(conn, days)


# --- disposals in the daily run -------------------------------------------------------------------


def disposed_accounts(conn: Connection, as_of: date) -> pl.DataFrame:
    """Accounts out of the books on `as_of` (approved, effective on or before it):
    account_id, kind, effective_on — for the summary and the cases."""
    rows = conn.execute(
        select(
            account_disposals.c.account_id,
            account_disposals.c.kind,
            account_disposals.c.effective_on,
        ).where(account_disposals.c.status == "approved", account_disposals.c.effective_on <= as_of)
    ).all()
    return pl.DataFrame(
        [(r[0], r[1], stored_date(r[2])) for r in rows],
        schema={"account_id": pl.String, "kind": pl.String, "effective_on": pl.Date},
        orient="row",
    )


def without_disposed(conn: Connection, overdue: pl.DataFrame, day: date) -> pl.DataFrame:
    """A day's overdue status rows without the accounts written off or disposed by then: they
    leave the collection cases (the hook in `collections.service.rebuild_cases_from`)."""
    gone = disposed_accounts(conn, day)
    if not gone.height:
        return overdue
    return overdue.join(gone.select("account_id"), on="account_id", how="anti")


def label_disposal_closures(conn: Connection, days: list[date]) -> int:
    """Cases these dates closed as `cured` because their accounts left the books (an approved
    disposal took effect after the previous stored date and on or before the closing date, on
    an account of the case) get close_reason `written_off` or `disposed`. Returns how many."""
    first, last = days[0], days[-1]
    closed = conn.execute(
        select(cases.c.case_id, cases.c.closed_on, case_accounts.c.account_id)
        .join(case_accounts, case_accounts.c.case_id == cases.c.case_id)
        .where(
            cases.c.status == "closed",
            cases.c.close_reason == "cured",
            cases.c.closed_on >= first,
            cases.c.closed_on <= last,
        )
    ).all()
    if not closed:
        return 0
    gone = disposed_accounts(conn, last)
    if not gone.height:
        return 0
    before = conn.execute(
        select(func.max(account_status.c.as_of)).where(account_status.c.as_of < first)
    ).scalar()
    previous = pl.DataFrame(
        {"closed_on": days, "previous": [as_date(before), *days[:-1]]},
        schema={"closed_on": pl.Date, "previous": pl.Date},
    )
    frame = pl.DataFrame(
        [(int(r[0]), stored_date(r[1]), r[2]) for r in closed],
        schema={"case_id": pl.Int64, "closed_on": pl.Date, "account_id": pl.String},
        orient="row",
    )
    labelled = (
        frame.join(previous, on="closed_on", how="left")
        .join(gone, on="account_id", how="inner")
        .filter(
            (pl.col("effective_on") <= pl.col("closed_on"))
            & (pl.col("previous").is_null() | (pl.col("effective_on") > pl.col("previous")))
        )
        .group_by("case_id")
        .agg((pl.col("kind") == "asset_disposal").any().alias("disposed"))
    )
    if labelled.height:
        conn.execute(
            update(cases)
            .where(cases.c.case_id == bindparam("cid"))
            .values(close_reason=bindparam("reason")),
            [
                {"cid": r["case_id"], "reason": "disposed" if r["disposed"] else "written_off"}
                for r in labelled.to_dicts()
            ],
        )
    return labelled.height


# --- proposals and matters: the legal officer's actions --------------------------------------


def _audit(conn: Connection, user: str, action: str, kind: str, key: int, detail: dict[str, Any],
           now: datetime) -> None:  # fmt: skip
    audit.record(conn, actor=user, action=action, target_type=kind, target_id=str(key),
                 detail=detail, now=now)  # fmt: skip


def _proposal(conn: Connection, proposal_id: int) -> Any:
    row = conn.execute(
        select(legal_proposals).where(legal_proposals.c.proposal_id == proposal_id)
    ).first()
    if row is None:
        raise LegalNotFound(f"legal proposal {proposal_id}: not found", "proposal_id")
    if row.status != "proposed":
        raise LegalConflict(
            f"legal proposal {proposal_id}: already {row.status} by {row.decided_by}", "status"
        )
    return row


def latest_status_date(conn: Connection) -> date | None:
    value = conn.execute(select(func.max(account_status.c.as_of))).scalar()
    return as_date(value)


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
        raise LegalConflict(f"legal proposal {proposal_id}: the case {why}", "proposal_id")
    if on < stored_date(row.proposed_on):
        raise LegalInvalid(
            f"legal proposal {proposal_id}: on: {on} is before the proposal ({row.proposed_on})",
            "on",
        )
    opened_on = stored_date(row.case_opened_on)
    missing = _missing(conn, None, row.customer_id, opened_on, "lawyer_letter", policy)
    if missing:
        raise EvidenceMissing(f"legal proposal {proposal_id}", "lawyer_letter", missing)
    latest = latest_status_date(conn)
    owed = account_status.c.outstanding_principal + account_status.c.overdue_interest
    claim = conn.execute(
        select(func.coalesce(func.sum(owed), 0)).where(
            account_status.c.customer_id == row.customer_id, account_status.c.as_of == latest
        )
    ).scalar()
    conn.execute(
        update(legal_proposals)
        .where(legal_proposals.c.proposal_id == proposal_id)
        .values(status="accepted", decided_by=user, decided_at=now, decision_note=note)
    )
    key = conn.execute(
        legal_matters.insert().values(
            proposal_id=proposal_id, customer_id=row.customer_id,
            case_opened_on=row.case_opened_on, stage="lawyer_letter", status="open", opened_on=on,
            claim_amount=int(claim or 0), owner=user,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    matter_id = int(key[0])
    conn.execute(
        legal_stages.insert().values(
            matter_id=matter_id, stage="lawyer_letter", entered_on=on, entered_by=user, note=note
        )
    )
    _audit(conn, user, "legal.accept", "legal_proposal", proposal_id,
           {"matter_id": matter_id, "customer_id": row.customer_id, "on": on.isoformat()},
           now)  # fmt: skip
    return matter_id


def decline_proposal(
    conn: Connection, proposal_id: int, *, user: str, note: str, now: datetime
) -> None:
    """Decline a proposal, with the reason (kept; a re-run does not propose it again)."""
    if not note or not note.strip():
        raise LegalInvalid(f"legal proposal {proposal_id}: note: a reason is required", "note")
    row = _proposal(conn, proposal_id)
    conn.execute(
        update(legal_proposals)
        .where(legal_proposals.c.proposal_id == proposal_id)
        .values(status="declined", decided_by=user, decided_at=now, decision_note=note)
    )
    _audit(conn, user, "legal.decline", "legal_proposal", proposal_id,
           {"customer_id": row.customer_id, "note": note}, now)  # fmt: skip


def _matter(conn: Connection, matter_id: int, *, open_only: bool = True) -> Any:
    row = conn.execute(select(legal_matters).where(legal_matters.c.matter_id == matter_id)).first()
    if row is None:
        raise LegalNotFound(f"legal matter {matter_id}: not found", "matter_id")
    if open_only and row.status != "open":
        raise LegalConflict(
            f"legal matter {matter_id}: closed on {row.closed_on} ({row.close_reason})", "status"
        )
    return row


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


def _missing(conn: Connection, matter_id: int | None, customer_id: str, since: date, stage: str,
             policy: Policy) -> list[str]:  # fmt: skip
    have = _documented(conn, matter_id)
    logged = _contact_log(conn, customer_id, since, policy)[0] > 0
    return [
        item
        for item in policy.legal.items_for(stage)
        if item not in have and not (logged and item in policy.legal.contact_log_evidence)
    ]


def evidence_checklist(conn: Connection, matter_id: int, policy: Policy) -> list[dict[str, Any]]:
    """Every stage's evidence items for the matter: stage, item, present, source
    (`document:<id>`, `contact_log` or None)."""
    row = _matter(conn, matter_id, open_only=False)
    have = _documented(conn, matter_id)
    logged = _contact_log(conn, row.customer_id, stored_date(row.case_opened_on), policy)[0] > 0
    out = []
    for stage in LEGAL_STAGES:
        for item in policy.legal.items_for(stage):
            source = (
                f"document:{have[item]}" if item in have
                else "contact_log" if logged and item in policy.legal.contact_log_evidence
                else None
            )  # fmt: skip
            out.append({"stage": stage, "item": item, "present": source is not None,
                        "source": source})  # fmt: skip
    return out


def advance_matter(
    conn: Connection, matter_id: int, to: str, policy: Policy, *, user: str, on: date,
    now: datetime, reference: str | None = None, note: str | None = None,
    close_reason: str | None = None,
) -> None:  # fmt: skip
    """Move a matter to stage `to` on date `on` (see TRANSITIONS and the module doc)."""
    row = _matter(conn, matter_id)
    allowed = TRANSITIONS[row.stage]
    if to not in allowed:
        raise LegalConflict(
            f"legal matter {matter_id}: stage: cannot go from {row.stage} to {to} "
            f"(allowed: {', '.join(allowed)})",
            "stage",
        )
    current = conn.execute(
        select(legal_stages.c.entered_on).where(
            legal_stages.c.matter_id == matter_id, legal_stages.c.stage == row.stage
        )
    ).scalar()
    if on < stored_date(current):
        raise LegalInvalid(
            f"legal matter {matter_id}: on: {on} is before {row.stage} began ({current})", "on"
        )
    if to == "closed":
        reasons = CLOSE_REASONS if row.stage == "enforcement" else EARLY_CLOSE_REASONS
        if close_reason not in reasons:
            raise LegalInvalid(
                f"legal matter {matter_id}: close_reason: closing from {row.stage} takes one of "
                f"{', '.join(reasons)}, not {close_reason!r}",
                "close_reason",
            )
    else:
        if close_reason is not None:
            raise LegalInvalid(
                f"legal matter {matter_id}: close_reason: only when closing", "close_reason"
            )
        missing = _missing(
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
    _audit(conn, user, "legal.advance", "legal_matter", matter_id,
           {"from": row.stage, "to": to, "on": on.isoformat(), "reference": reference,
            "close_reason": close_reason}, now)  # fmt: skip


def add_document(
    conn: Connection, matter_id: int, *, name: str, kind: str, reference: str, user: str,
    now: datetime, dated_on: date | None = None,
) -> int:  # fmt: skip
    """Book a document (name, kind, where it is kept) against the matter's current stage. A
    document whose kind is an evidence item of the policy is that evidence."""
    row = _matter(conn, matter_id)
    for field, value, limit in (("name", name, 200), ("kind", kind, 48), ("reference", reference,
                                                                           2000)):  # fmt: skip
        if not value or not value.strip():
            raise LegalInvalid(f"legal matter {matter_id}: {field}: must not be empty", field)
        if len(value) > limit:
            raise LegalInvalid(
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
    _audit(conn, user, "legal.document", "legal_matter", matter_id,
           {"document_id": document_id, "kind": kind, "name": name}, now)  # fmt: skip
    return document_id


def add_evidence(
    conn: Connection, matter_id: int, item: str, policy: Policy, *, name: str, reference: str,
    user: str, now: datetime, dated_on: date | None = None,
) -> int:  # fmt: skip
    """Provide one item of the evidence checklist (a document of that kind)."""
    if item not in policy.legal.all_items:
        raise LegalInvalid(
            f"legal matter {matter_id}: item: {item!r} is not on the evidence checklist "
            f"({', '.join(policy.legal.all_items)})",
            "item",
        )
    return add_document(conn, matter_id, name=name, kind=item, reference=reference, user=user,
                        now=now, dated_on=dated_on)  # fmt: skip


MAX_AMOUNT = 10**15  # minor units: far above any claim, far below BIGINT


def add_cost(
    conn: Connection, matter_id: int, policy: Policy, *, category: str, amount: int,
    incurred_on: date, user: str, now: datetime, note: str | None = None,
) -> int:  # fmt: skip
    """Book a legal cost (minor units) against the matter's current stage."""
    row = _matter(conn, matter_id)
    if category not in policy.legal.cost_categories:
        raise LegalInvalid(
            f"legal matter {matter_id}: category: {category!r} is not one of "
            f"{', '.join(policy.legal.cost_categories)}",
            "category",
        )
    if not 0 < amount <= MAX_AMOUNT:
        raise LegalInvalid(f"legal matter {matter_id}: amount: must be positive", "amount")
    if incurred_on < stored_date(row.opened_on):
        raise LegalInvalid(
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
    _audit(conn, user, "legal.cost", "legal_matter", matter_id,
           {"cost_id": cost_id, "category": category, "amount": amount}, now)  # fmt: skip
    return cost_id


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
    row = _matter(conn, matter_id, open_only=False)

    def rows(table: Any, order: Any) -> list[dict[str, Any]]:
        found = conn.execute(select(table).where(table.c.matter_id == matter_id).order_by(order))
        return [dict(r._mapping) for r in found]

    stage_rank = {s: i for i, s in enumerate(STAGES)}
    stages = sorted(rows(legal_stages, legal_stages.c.entered_on),
                    key=lambda r: stage_rank[r["stage"]])  # fmt: skip
    costs = rows(legal_costs, legal_costs.c.cost_id)
    demands, last = _contact_log(conn, row.customer_id, stored_date(row.case_opened_on), policy)
    years = policy.legal.limitation_years
    ends = None
    if last is not None:
        try:
            ends = last.replace(year=last.year + years)
        except ValueError:  # 29 February
            ends = last.replace(year=last.year + years, day=28)
    return MatterDetail(
        matter=dict(row._mapping),
        stages=stages,
        documents=rows(legal_documents, legal_documents.c.document_id),
        costs=costs,
        checklist=evidence_checklist(conn, matter_id, policy),
        total_cost=sum(int(c["amount"]) for c in costs),
        demands=demands,
        last_demand_on=last,
        limitation_ends_on=ends,
    )


# --- write-off and asset disposal: maker-checker ------------------------------------------------


def _account_now(conn: Connection, account_id: str) -> Any:
    latest = latest_status_date(conn)
    row = conn.execute(
        select(account_status).where(
            account_status.c.account_id == account_id, account_status.c.as_of == latest
        )
    ).first()
    if row is None:
        raise LegalNotFound(
            f"account {account_id}: no stored status on the latest date ({latest})", "account_id"
        )
    return row, latest


def propose_disposal(
    conn: Connection, *, account_id: str, kind: str, effective_on: date, reason: str,
    user: str, now: datetime, principal: int | None = None, interest: int | None = None,
    fee: int = 0, proceeds: int | None = None, counterparty: str | None = None,
    matter_id: int | None = None,
) -> int:  # fmt: skip
    """Propose writing off or disposing of one account; returns the disposal's id. Principal
    and interest default to the account's outstanding principal and overdue interest on the
    latest stored date."""
    where = f"disposal of account {account_id}"
    if kind not in DISPOSAL_KINDS:
        raise LegalInvalid(f"{where}: kind: one of {', '.join(DISPOSAL_KINDS)}", "kind")
    if not reason or not reason.strip():
        raise LegalInvalid(f"{where}: reason: a reason is required", "reason")
    status, latest = _account_now(conn, account_id)
    _after_latest(where, effective_on, latest)
    principal = int(status.outstanding_principal) if principal is None else principal
    interest = int(status.overdue_interest) if interest is None else interest
    if not 0 <= principal <= int(status.outstanding_principal):
        raise LegalInvalid(
            f"{where}: principal: must be between 0 and the outstanding principal "
            f"({status.outstanding_principal})",
            "principal",
        )
    for field, value in (("interest", interest), ("fee", fee)):
        if not 0 <= value <= MAX_AMOUNT:
            raise LegalInvalid(f"{where}: {field}: must be 0 or more", field)
    if principal + interest + fee <= 0:
        raise LegalInvalid(f"{where}: principal: nothing to take out of the books", "principal")
    if kind == "asset_disposal":
        if proceeds is None or not 0 <= proceeds <= MAX_AMOUNT:
            raise LegalInvalid(f"{where}: proceeds: the price received (0 or more)", "proceeds")
    elif proceeds is not None or counterparty is not None:
        field = "proceeds" if proceeds is not None else "counterparty"
        raise LegalInvalid(f"{where}: {field}: only an asset disposal has one", field)
    if matter_id is not None:
        matter = _matter(conn, matter_id, open_only=False)
        if matter.customer_id != status.customer_id:
            raise LegalInvalid(f"{where}: matter_id: {matter_id} is another customer's",
                               "matter_id")  # fmt: skip
    live = conn.execute(
        select(account_disposals.c.disposal_id, account_disposals.c.status).where(
            account_disposals.c.account_id == account_id,
            account_disposals.c.status.in_(("proposed", "approved")),
        )
    ).first()
    if live is not None:
        raise LegalConflict(f"{where}: already {live.status} (disposal {live.disposal_id})",
                            "account_id")  # fmt: skip
    key = conn.execute(
        account_disposals.insert().values(
            account_id=account_id, customer_id=status.customer_id, kind=kind,
            effective_on=effective_on, principal=principal, interest=interest, fee=fee,
            proceeds=proceeds, counterparty=counterparty, reason=reason, matter_id=matter_id,
            status="proposed", proposed_by=user, proposed_at=now,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    disposal_id = int(key[0])
    _audit(conn, user, "writeoff.propose", "account_disposal", disposal_id,
           {"account_id": account_id, "kind": kind, "effective_on": effective_on.isoformat(),
            "principal": principal, "interest": interest, "fee": fee, "proceeds": proceeds},
           now)  # fmt: skip
    return disposal_id


def _after_latest(where: str, effective_on: date, latest: date | None) -> None:
    if latest is not None and effective_on <= latest:
        raise LegalInvalid(
            f"{where}: effective_on: must be after the latest stored business date ({latest}); "
            "dates already run are not restated",
            "effective_on",
        )


def decide_disposal(
    conn: Connection, disposal_id: int, *, approve: bool, user: str, now: datetime,
    note: str | None = None,
) -> None:  # fmt: skip
    """The checker approves or rejects a proposed disposal — never their own."""
    row = conn.execute(
        select(account_disposals).where(account_disposals.c.disposal_id == disposal_id)
    ).first()
    where = f"disposal {disposal_id}"
    if row is None:
        raise LegalNotFound(f"{where}: not found", "disposal_id")
    if row.status != "proposed":
        raise LegalConflict(f"{where}: already {row.status} by {row.decided_by}", "status")
    if row.proposed_by == user:
        raise SameUser(f"{where}: proposed by {user}; another user must decide it")
    if approve:
        _after_latest(where, stored_date(row.effective_on), latest_status_date(conn))
    elif not note or not note.strip():
        raise LegalInvalid(f"{where}: note: a reason for rejecting is required", "note")
    status = "approved" if approve else "rejected"
    conn.execute(
        update(account_disposals)
        .where(account_disposals.c.disposal_id == disposal_id)
        .values(status=status, decided_by=user, decided_at=now, decision_note=note)
    )
    _audit(conn, user, "writeoff.approve" if approve else "writeoff.reject", "account_disposal",
           disposal_id, {"account_id": row.account_id, "kind": row.kind, "note": note},
           now)  # fmt: skip


# --- for the KPIs: write-offs, legal costs, recoveries per period ------------------------------

DISPOSALS = {
    "disposal_id": pl.Int64, "account_id": pl.String, "customer_id": pl.String,
    "kind": pl.String, "effective_on": pl.Date, "principal": pl.Int64, "interest": pl.Int64,
    "fee": pl.Int64, "amount": pl.Int64, "proceeds": pl.Int64, "matter_id": pl.Int64,
    "proposed_by": pl.String, "decided_by": pl.String,
}  # fmt: skip


def disposals_in_period(conn: Connection, start: date, end: date) -> pl.DataFrame:
    """Approved write-offs and disposals effective in [start, end] (DISPOSALS): what each took
    out of the books (`amount` = principal + interest + fee), the proceeds, the matter."""
    d = account_disposals
    rows = conn.execute(
        select(d.c.disposal_id, d.c.account_id, d.c.customer_id, d.c.kind, d.c.effective_on,
               d.c.principal, d.c.interest, d.c.fee, d.c.principal + d.c.interest + d.c.fee,
               d.c.proceeds, d.c.matter_id, d.c.proposed_by, d.c.decided_by)
        .where(d.c.status == "approved", d.c.effective_on >= start, d.c.effective_on <= end)
        .order_by(d.c.effective_on, d.c.disposal_id)
    ).all()  # fmt: skip
    return pl.DataFrame(
        [(*r[:4], stored_date(r[4]), *r[5:]) for r in rows], schema=DISPOSALS, orient="row"
    )


def disposal_totals(conn: Connection, start: date, end: date) -> pl.DataFrame:
    """Per kind: accounts, principal, interest, fee, amount, proceeds — for the write-off part
    of the overdue reduction rate (压降率)."""
    frame = disposals_in_period(conn, start, end)
    return (
        pl.DataFrame({"kind": list(DISPOSAL_KINDS)})
        .join(
            frame.group_by("kind").agg(
                pl.len().alias("accounts"),
                *(pl.col(c).sum() for c in ("principal", "interest", "fee", "amount")),
                pl.col("proceeds").fill_null(0).sum(),
            ),
            on="kind",
            how="left",
            maintain_order="left",
        )
        .fill_null(0)
    )


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


RECOVERIES = {
    "payment_id": pl.String, "account_id": pl.String, "customer_id": pl.String,
    "kind": pl.String, "value_date": pl.Date, "amount": pl.Int64,
}  # fmt: skip


def recoveries_after_disposal(conn: Connection, start: date, end: date) -> pl.DataFrame:
    """Payments on written-off or disposed accounts dated in [start, end] and on or after the
    disposal took effect (RECOVERIES). A reversal dated in the period is a row with the reversed
    payment's amount negated, so the sum is the net recovery of the period."""
    d, p = account_disposals, payments
    reversed_payment = p.alias("reversed")
    rows = conn.execute(
        select(p.c.payment_id, p.c.account_id, d.c.customer_id, d.c.kind, p.c.value_date,
               p.c.amount, p.c.reverses_payment_id, reversed_payment.c.amount,
               reversed_payment.c.value_date, d.c.effective_on)
        .join(d, d.c.account_id == p.c.account_id)
        .outerjoin(reversed_payment,
                   reversed_payment.c.payment_id == p.c.reverses_payment_id)
        .where(d.c.status == "approved", p.c.value_date >= d.c.effective_on,
               p.c.value_date >= start, p.c.value_date <= end)
        .order_by(p.c.value_date, p.c.payment_id)
    ).all()  # fmt: skip
    # A reversal undoes a recovery only when the payment it reverses was one.
    kept = [
        r
        for r in rows
        if r[6] is None or (r[8] is not None and stored_date(r[8]) >= stored_date(r[9]))
    ]
    return pl.DataFrame(
        [(r[0], r[1], r[2], r[3], stored_date(r[4]), -int(r[7]) if r[6] is not None else int(r[5]))
         for r in kept],
        schema=RECOVERIES,
        orient="row",
    )  # fmt: skip
