"""The tamper-evident audit log: an append-only hash chain.

Each entry stores the SHA-256 of its own canonical content, which includes the previous
entry's hash (the first entry's `prev_hash` is 64 zeros). `verify` recomputes the chain and
names every entry that was altered, and where entries were deleted or inserted. There is no
update or delete function. Limits: someone with write access who rewrites the whole tail of
the chain consistently, or deletes the newest entries, is only caught against an anchored
`head()` kept elsewhere (pass it to `verify(anchor=...)`; `postloan audit anchor` prints it).

Concurrent writers: every append reads the head and writes the next entry, so appends are
serialised for the rest of the writer's transaction (`lock_chain`) — two transactions never
read the same head (which would fail one of them on the unique seq, or fork the chain).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, select

from postloan.access.tables import audit_log
from postloan.access.times import to_utc

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(at: datetime) -> str:
    return to_utc(at).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    """SHA-256 hex of the entry's canonical JSON (`detail` is the stored JSON text)."""
    content = {
        "seq": seq,
        "at": _iso(at),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def head(conn: Connection) -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, GENESIS_HASH) for an empty log."""
    row = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if row is None else (row.seq, row.hash)


def lock_chain(conn: Connection) -> None:
    """Hold the right to append until the transaction ends: whoever appends next waits.

    PostgreSQL: a transaction-scoped advisory lock, one per schema (each test schema, or a
    deployment's, has its own chain); after it, READ COMMITTED reads the newest head.
    SQLite: a no-op UPDATE takes the database's write lock now — before the head is read, so
    the head cannot change under us (a plain SELECT would not lock, and a write after it
    could find the snapshot stale)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log'))")
        )
    else:  # (the module offers no update: this one changes nothing, it only takes the lock)
        conn.execute(sa.update(audit_log).where(sa.false()).values(seq=audit_log.c.seq))


def head_for_append(conn: Connection) -> tuple[int, str]:
    """`head()` for a writer about to append: `lock_chain` first (callers that build entries
    themselves, such as a batch of case allocations, use this)."""
    lock_chain(conn)
    return head(conn)


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> int:
    """Append one entry; returns its seq. Concurrent writers wait for each other
    (`lock_chain`); the unique seq stays the last guard against a fork."""
    last_seq, prev_hash = head_for_append(conn)
    seq = last_seq + 1
    at = to_utc(now)
    detail_text = canonical_json(detail or {})
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail_text,
        prev_hash=prev_hash,
    )
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            detail=detail_text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    return seq


def entries(conn: Connection, *, limit: int = 100, before: int | None = None) -> list[Any]:
    """Newest entries first (for `audit.view`)."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(audit_log.c.seq < before)
    return list(conn.execute(query).all())


def verify(conn: Connection, anchor: tuple[int, str] | None = None) -> list[str]:
    """Every problem in the chain, one message each naming the seq; empty = intact.

    `anchor` is a `head()` taken earlier and kept elsewhere: its entry must still exist with
    the same hash (catches deleting the newest entries or rewriting the whole tail)."""
    problems: list[str] = []
    prev_seq, prev_hash = 0, GENESIS_HASH
    anchored_hash: str | None = None
    for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)):
        if row.seq != prev_seq + 1:
            missing = (
                f"seq {prev_seq + 1}"
                if row.seq == prev_seq + 2
                else f"seq {prev_seq + 1}–{row.seq - 1}"
            )
            problems.append(f"{missing}: missing (deleted) before seq {row.seq}")
        if row.prev_hash != prev_hash:
            problems.append(
                f"seq {row.seq}: chain break — prev_hash does not match the hash of seq "
                f"{prev_seq} (an entry was deleted or inserted)"
            )
        recomputed = entry_hash(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.hash:
            problems.append(f"seq {row.seq}: altered — content does not match its hash")
        if anchor is not None and row.seq == anchor[0]:
            anchored_hash = row.hash
        prev_seq, prev_hash = row.seq, row.hash
    if anchor is not None and anchor[0] > 0:
        if anchored_hash is None:
            problems.append(f"seq {anchor[0]}: anchored entry missing (deleted)")
        elif anchored_hash != anchor[1]:
            problems.append(f"seq {anchor[0]}: hash differs from the anchor (chain rewritten)")
    return problems
