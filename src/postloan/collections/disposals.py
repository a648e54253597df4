"""Write-off (核销) and asset disposal (资产处置) of an account (OD-10). Not legal action: a
disposal may follow a legal matter (`matter_id`), but it is about the books — the reports
(`reports.summary`), the cases and the KPIs read it.

A write-off or asset disposal of one account is proposed by one user and approved by another
(`writeoff.approve`; maker-checker). It takes effect from a business date not yet run
(`effective_on` after the latest stored date: reported dates are never restated). From then on
the account is out of the performing pool (`reports.summary`), out of the cases
(`without_disposed`, the one hook in `collections.service`; a case left with nothing overdue
closes, and the run labels that closure `written_off` / `disposed`:
`label_disposal_closures`), and payments on it count as recoveries. Its status rows stay: the
debt is still owed.

Pure rules (values and frames in, no database), in `rules.disposals` and re-exported here:
`check_amounts`, `check_after_latest`, `closure_labels`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, bindparam, select, update

from postloan.collections.errors import RecordConflict, RecordInvalid, RecordNotFound, SameUser
from postloan.collections.legal_matters import matter_row
from postloan.collections.legal_tables import account_disposals
from postloan.collections.records import audit_change
from postloan.collections.rules.disposals import CASE_CLOSE_REASON as CASE_CLOSE_REASON
from postloan.collections.rules.disposals import DISPOSAL_KINDS as DISPOSAL_KINDS
from postloan.collections.rules.disposals import check_after_latest as check_after_latest
from postloan.collections.rules.disposals import check_amounts as check_amounts
from postloan.collections.rules.disposals import closure_labels as closure_labels
from postloan.collections.tables import case_accounts, cases
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status, payments
from postloan.store.values import stored_date

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
    """Cases these dates closed as `cured` because their accounts left the books (see
    `closure_labels`) get close_reason `written_off` or `disposed`. Returns how many. Run by
    the daily run's legal-proposals step (`collections.steps`), after the cases."""
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
    before = latest_stored_date(conn, before=first)
    frame = pl.DataFrame(
        [(int(r[0]), stored_date(r[1]), r[2]) for r in closed],
        schema={"case_id": pl.Int64, "closed_on": pl.Date, "account_id": pl.String},
        orient="row",
    )
    labelled = closure_labels(frame, gone, days, before)
    if labelled.height:
        conn.execute(
            update(cases)
            .where(cases.c.case_id == bindparam("cid"))
            .values(close_reason=bindparam("reason")),
            [{"cid": r["case_id"], "reason": r["close_reason"]} for r in labelled.to_dicts()],
        )
    return labelled.height


# --- write-off and asset disposal: maker-checker ------------------------------------------------


def _account_now(conn: Connection, account_id: str) -> Any:
    latest = latest_stored_date(conn)
    row = conn.execute(
        select(account_status).where(
            account_status.c.account_id == account_id, account_status.c.as_of == latest
        )
    ).first()
    if row is None:
        raise RecordNotFound(
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
        raise RecordInvalid(f"{where}: kind: one of {', '.join(DISPOSAL_KINDS)}", "kind")
    if not reason or not reason.strip():
        raise RecordInvalid(f"{where}: reason: a reason is required", "reason")
    status, latest = _account_now(conn, account_id)
    check_after_latest(where, effective_on, latest)
    principal, interest = check_amounts(
        where, kind, outstanding_principal=int(status.outstanding_principal),
        overdue_interest=int(status.overdue_interest), principal=principal, interest=interest,
        fee=fee, proceeds=proceeds, counterparty=counterparty,
    )  # fmt: skip
    if matter_id is not None:
        matter = matter_row(conn, matter_id, open_only=False)
        if matter.customer_id != status.customer_id:
            raise RecordInvalid(f"{where}: matter_id: {matter_id} is another customer's",
                                "matter_id")  # fmt: skip
    live = conn.execute(
        select(account_disposals.c.disposal_id, account_disposals.c.status).where(
            account_disposals.c.account_id == account_id,
            account_disposals.c.status.in_(("proposed", "approved")),
        )
    ).first()
    if live is not None:
        raise RecordConflict(f"{where}: already {live.status} (disposal {live.disposal_id})",
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
    audit_change(conn, user, "writeoff.propose", "account_disposal", disposal_id,
                 {"account_id": account_id, "kind": kind, "effective_on": effective_on.isoformat(),
                  "principal": principal, "interest": interest, "fee": fee, "proceeds": proceeds},
                 now)  # fmt: skip
    return disposal_id


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
        raise RecordNotFound(f"{where}: not found", "disposal_id")
    if row.status != "proposed":
        raise RecordConflict(f"{where}: already {row.status} by {row.decided_by}", "status")
    if row.proposed_by == user:
        raise SameUser(f"{where}: proposed by {user}; another user must decide it")
    if approve:
        check_after_latest(where, stored_date(row.effective_on), latest_stored_date(conn))
    elif not note or not note.strip():
        raise RecordInvalid(f"{where}: note: a reason for rejecting is required", "note")
    status = "approved" if approve else "rejected"
    conn.execute(
        update(account_disposals)
        .where(account_disposals.c.disposal_id == disposal_id)
        .values(status=status, decided_by=user, decided_at=now, decision_note=note)
    )
    audit_change(conn, user, "writeoff.approve" if approve else "writeoff.reject",
                 "account_disposal", disposal_id,
                 {"account_id": row.account_id, "kind": row.kind, "note": note}, now)  # fmt: skip


# --- for the KPIs: write-offs and recoveries per period ----------------------------------------

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
