"""Collections' public interface for other areas: hand work over to the recovery team, and read
the customers' contact opt-outs. Other areas import this module only (import-linter contract
"Churn reaches collections only through collections.handover"); they never write collections'
tables.

- `hand_over`: record hand-overs (idempotent by `(source, source_key)`: handing the same thing
  over again refreshes an open one and leaves a decided one alone).
- `withdraw_open`: a handing area's replay withdraws the open hand-overs it no longer makes
  (decided ones stay: work done stays).
- `handover_states`: the state of a source's hand-overs, for the handing area's screens.
- `handover_rows`: a source's hand-overs as handed (key, id, status, what was asked and why), so
  a handing area re-hands only what changed.
- `decide_handover`: the recovery team accepts (works it: special recovery team, legal
  proposal, asset preservation, negotiated plan) or declines it with a reason — audited.
- `pause_work` / `resume_work`: another area (relationship's hardship plans, card rules Art.
  70) stops collection work for a customer while a plan is kept and gives it back when the plan
  is broken or ends. A pause is a row of `handovers` (actions "pause_collection", status
  `paused`, then `resumed`) — not work for the recovery team, whose queue lists `open` ones —
  and it takes the customer's open tasks out of the queue (status `paused`); resuming returns
  them (`open`). `paused_customers` lists the customers under a pause, for collections' daily
  steps to skip (see docs/relationship.md: the steps do not read it yet).
- `opted_out_channels_on`: per customer, the channels opted out of by a day (the same opt-outs
  the collections contact policy honours), for marketing contacts of other areas;
  `opt_out_rows` the same opt-outs as rows for a set of customers (a query), for a whole frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Select, and_, bindparam, delete, select, update

from postloan.collections.errors import RecordConflict, RecordInvalid, RecordNotFound
from postloan.collections.handover_tables import handovers
from postloan.collections.records import audit_change
from postloan.collections.tables import contact_opt_outs, tasks
from postloan.store.values import stored_date

__all__ = [
    "Handover",
    "decide_handover",
    "hand_over",
    "handover_rows",
    "handover_states",
    "opt_out_rows",
    "opted_out_channels_on",
    "pause_work",
    "paused_customers",
    "resume_work",
    "withdraw_open",
]


@dataclass(frozen=True)
class Handover:
    source: str  # the handing area
    source_key: str  # its key, unique within the source
    customer_id: str
    handed_on: date
    actions: tuple[str, ...]  # asked for (e.g. special_recovery_team, legal_proposal)
    overdue_amount: int  # minor units, on handed_on
    max_dpd: int
    basis: str  # JSON: why


def _row(h: Handover) -> dict[str, object]:
    return {"source": h.source, "source_key": h.source_key, "customer_id": h.customer_id,
            "handed_on": h.handed_on, "actions": ",".join(h.actions),
            "overdue_amount": h.overdue_amount, "max_dpd": h.max_dpd, "basis": h.basis}  # fmt: skip


def hand_over(conn: Connection, items: Sequence[Handover]) -> dict[str, int]:
    """Record `items`; returns {source_key: handover_id}. Idempotent (module doc)."""
    out: dict[str, int] = {}
    for source in sorted({h.source for h in items}):
        mine = [h for h in items if h.source == source]
        known = {r.source_key: (int(r.handover_id), r.status) for r in conn.execute(
            select(handovers.c.source_key, handovers.c.handover_id, handovers.c.status).where(
                handovers.c.source == source,
                handovers.c.source_key.in_([h.source_key for h in mine]),
            ))}  # fmt: skip
        new = [_row(h) | {"status": "open"} for h in mine if h.source_key not in known]
        if new:
            conn.execute(handovers.insert(), new)
        again = [h for h in mine if known.get(h.source_key, (0, ""))[1] == "open"]
        if again:
            conn.execute(
                update(handovers)
                .where(handovers.c.handover_id == bindparam("hid"))
                .values(handed_on=bindparam("on"), actions=bindparam("acts"),
                        overdue_amount=bindparam("amount"), max_dpd=bindparam("dpd"),
                        basis=bindparam("why")),
                [{"hid": known[h.source_key][0], "on": h.handed_on, "acts": ",".join(h.actions),
                  "amount": h.overdue_amount, "dpd": h.max_dpd, "why": h.basis} for h in again],
            )  # fmt: skip
        found = handover_states(conn, source, [h.source_key for h in mine], ids=True)
        out.update({k: int(v) for k, v in found.items()})  # type: ignore[call-overload]
    return out


def withdraw_open(conn: Connection, source: str, keys: Iterable[str]) -> None:
    """Delete the open hand-overs of `source` with these keys (nobody has acted on them)."""
    keys = list(keys)
    if keys:
        conn.execute(
            delete(handovers).where(
                handovers.c.source == source, handovers.c.status == "open",
                handovers.c.source_key.in_(keys),
            )
        )  # fmt: skip


def handover_states(
    conn: Connection, source: str, keys: Iterable[str] | None = None, *, ids: bool = False
) -> dict[str, object]:
    """{source_key: status} of a source's hand-overs ({source_key: handover_id} with `ids`)."""
    h = handovers.c
    q = select(h.source_key, h.handover_id, h.status).where(h.source == source)
    if keys is not None:
        q = q.where(h.source_key.in_(list(keys)))
    return {r.source_key: (int(r.handover_id) if ids else r.status) for r in conn.execute(q)}


def handover_rows(conn: Connection, source: str) -> list[tuple[str, int, str, date, str, int,
                                                                  int, str]]:  # fmt: skip
    """(source_key, handover_id, status, handed_on, actions, overdue_amount, max_dpd, basis) of
    every hand-over of `source`."""
    h = handovers.c
    return [(r[0], int(r[1]), r[2], stored_date(r[3]), r[4], int(r[5]), int(r[6]), r[7])
            for r in conn.execute(select(h.source_key, h.handover_id, h.status, h.handed_on,
                                         h.actions, h.overdue_amount, h.max_dpd, h.basis)
                                  .where(h.source == source))]  # fmt: skip


def decide_handover(
    conn: Connection, handover_id: int, *, accept: bool, user: str, note: str | None,
    now: datetime,
) -> None:  # fmt: skip
    """The recovery team accepts or declines a hand-over (a reason is required to decline)."""
    if not accept and (note is None or not note.strip()):
        raise RecordInvalid(f"hand-over {handover_id}: note: a reason is required", "note")
    row = conn.execute(select(handovers).where(handovers.c.handover_id == handover_id)).first()
    if row is None:
        raise RecordNotFound(f"hand-over {handover_id}: not found", "handover_id")
    if row.status != "open":
        raise RecordConflict(f"hand-over {handover_id}: already {row.status}", "status")
    status = "accepted" if accept else "declined"
    conn.execute(
        update(handovers).where(handovers.c.handover_id == handover_id)
        .values(status=status, decided_by=user, decided_at=now, decision_note=note)
    )  # fmt: skip
    audit_change(conn, user, f"handover.{'accept' if accept else 'decline'}", "handover",
                 handover_id, {"customer_id": row.customer_id, "source": row.source,
                               "note": note}, now)  # fmt: skip


def opted_out_channels_on(
    conn: Connection, customer_ids: Iterable[str], day: date
) -> dict[str, frozenset[str]]:
    """Per customer, the channels they had opted out of on `day` (opt-outs since that day or
    earlier); customers without any are left out."""
    ids = sorted(set(customer_ids))
    out: dict[str, set[str]] = {}
    for i in range(0, len(ids), 500):
        o = contact_opt_outs.c
        for r in conn.execute(
            select(o.customer_id, o.channel, o.since).where(
                and_(o.customer_id.in_(ids[i : i + 500]), o.since <= day)
            )
        ):
            if stored_date(r.since) <= day:
                out.setdefault(r.customer_id, set()).add(r.channel)
    return {k: frozenset(v) for k, v in out.items()}


def opt_out_rows(conn: Connection, customer_ids: Select[tuple[str]]) -> list[tuple[str, str, date]]:
    """(customer_id, channel, since) of every opt-out of the customers `customer_ids` selects."""
    o = contact_opt_outs.c
    rows = conn.execute(
        select(o.customer_id, o.channel, o.since).where(o.customer_id.in_(customer_ids))
    )
    return [(r[0], r[1], stored_date(r[2])) for r in rows]


PAUSE = "pause_collection"


def pause_work(
    conn: Connection,
    source: str,
    source_key: str,
    customer_id: str,
    on: date,
    basis: str,
    user: str,
    now: datetime,
) -> int:
    """Pause collection work for the customer from `on` (module doc); returns the number of
    open tasks taken out of the queue. Pausing the same key again is a conflict."""
    h = handovers.c
    if conn.execute(
        select(h.handover_id).where(h.source == source, h.source_key == source_key)
    ).first():
        raise RecordConflict(f"{source} {source_key}: already paused", "source_key")
    key = conn.execute(
        handovers.insert().values(
            source=source,
            source_key=source_key,
            customer_id=customer_id,
            handed_on=on,
            actions=PAUSE,
            overdue_amount=0,
            max_dpd=0,
            basis=basis,
            status="paused",
        )
    ).inserted_primary_key
    held = conn.execute(
        update(tasks)
        .where(tasks.c.customer_id == customer_id, tasks.c.status == "open")
        .values(status="paused")
    )
    assert key is not None
    audit_change(
        conn,
        user,
        "collections.pause",
        "handover",
        int(key[0]),
        {
            "customer_id": customer_id,
            "source": source,
            "source_key": source_key,
            "on": on.isoformat(),
            "tasks": int(held.rowcount or 0),
        },
        now,
    )
    return int(held.rowcount or 0)


def resume_work(
    conn: Connection,
    source: str,
    source_key: str,
    on: date,
    note: str,
    user: str,
    now: datetime,
) -> int:
    """End the pause: the customer's paused tasks return to the queue (unless another pause
    of the customer is still in force); returns how many."""
    h = handovers.c
    row = conn.execute(
        select(handovers).where(h.source == source, h.source_key == source_key, h.actions == PAUSE)
    ).first()
    if row is None:
        raise RecordNotFound(f"{source} {source_key}: no pause", "source_key")
    if row.status != "paused":
        raise RecordConflict(f"{source} {source_key}: already {row.status}", "status")
    conn.execute(
        update(handovers)
        .where(h.handover_id == row.handover_id)
        .values(status="resumed", decided_by=user, decided_at=now, decision_note=note)
    )
    back = 0
    if row.customer_id not in paused_customers(conn):
        result = conn.execute(
            update(tasks)
            .where(tasks.c.customer_id == row.customer_id, tasks.c.status == "paused")
            .values(status="open")
        )
        back = int(result.rowcount or 0)
    audit_change(
        conn,
        user,
        "collections.resume",
        "handover",
        int(row.handover_id),
        {
            "customer_id": row.customer_id,
            "source": source,
            "source_key": source_key,
            "on": on.isoformat(),
            "tasks": back,
            "note": note,
        },
        now,
    )
    return back


def paused_customers(conn: Connection) -> set[str]:
    """The customers whose collection work another area has paused."""
    h = handovers.c
    return set(
        conn.execute(
            select(h.customer_id).where(h.actions == PAUSE, h.status == "paused")
        ).scalars()
    )
