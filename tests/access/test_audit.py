from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select, text

from postloan.access import audit
from postloan.access.tables import audit_log
from tests.access.conftest import NOW


@pytest.fixture
def chain(engine: Engine) -> Engine:
    with engine.begin() as conn:
        for i in range(1, 6):
            seq = audit.record(
                conn,
                actor=f"user{i}",
                action="customer.reveal",
                target_type="customer",
                target_id=f"C{i}",
                detail={"field": "phone", "reason": f"理由 {i}"},
                now=NOW + timedelta(minutes=i),
            )
            assert seq == i
    return engine


def test_clean_chain_verifies(chain: Engine) -> None:
    with chain.begin() as conn:
        assert audit.verify(conn) == []
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        assert audit.head(conn) == (5, rows[-1].hash)
    assert rows[0].prev_hash == "0" * 64
    for before, after in pairwise(rows):
        assert after.prev_hash == before.hash


def test_empty_log_verifies(engine: Engine) -> None:
    with engine.begin() as conn:
        assert audit.verify(conn) == []
        assert audit.head(conn) == (0, "0" * 64)


def test_hash_is_independent_of_timezone_of_now(engine: Engine) -> None:
    from datetime import timezone

    shanghai = timezone(timedelta(hours=8))
    with engine.begin() as conn:
        audit.record(conn, actor="a", action="x", now=NOW.astimezone(shanghai))
        audit.record(conn, actor="b", action="y", detail={"n": 1}, now=NOW)
        assert audit.verify(conn) == []


def _problems(engine: Engine, sql: str, **params: object) -> list[str]:
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    with engine.begin() as conn:
        return audit.verify(conn)


def test_altered_detail_is_named(chain: Engine) -> None:
    problems = _problems(
        chain,
        "UPDATE audit_log SET detail = :d WHERE seq = 3",
        d='{"field":"id_number","reason":"理由 3"}',
    )
    assert len(problems) == 1
    assert problems[0].startswith("seq 3: altered")


def test_altered_actor_with_recomputed_own_hash_breaks_the_next_link(chain: Engine) -> None:
    with chain.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == 2)).one()
        forged = audit.entry_hash(
            seq=2,
            at=row.at,
            actor="someone_else",
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
    problems = _problems(
        chain, "UPDATE audit_log SET actor = 'someone_else', hash = :h WHERE seq = 2", h=forged
    )
    assert len(problems) == 1
    assert problems[0].startswith("seq 3: chain break")


def test_deleted_middle_entry_is_named(chain: Engine) -> None:
    problems = _problems(chain, "DELETE FROM audit_log WHERE seq = 3")
    assert problems[0] == "seq 3: missing (deleted) before seq 4"
    assert problems[1].startswith("seq 4: chain break")
    assert len(problems) == 2


def test_deleted_run_of_entries(chain: Engine) -> None:
    problems = _problems(chain, "DELETE FROM audit_log WHERE seq IN (2, 3)")
    assert problems[0] == "seq 2–3: missing (deleted) before seq 4"


def test_deleted_first_entry(chain: Engine) -> None:
    problems = _problems(chain, "DELETE FROM audit_log WHERE seq = 1")
    assert problems[0].startswith("seq 1: missing")


def test_inserted_forged_entry_is_named(chain: Engine) -> None:
    with chain.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    with chain.begin() as conn:
        conn.execute(
            audit_log.insert().values(
                seq=4,
                at=NOW,
                actor="mallory",
                action="customer.reveal",
                target_type="customer",
                target_id="C9",
                detail="{}",
                prev_hash="f" * 64,
                hash="e" * 64,
            )
        )
    with chain.begin() as conn:
        problems = audit.verify(conn)
    assert any(p.startswith("seq 4: chain break") for p in problems)
    assert any(p.startswith("seq 4: altered") for p in problems)
    assert any(p.startswith("seq 5: chain break") for p in problems)


def test_appended_forgery_with_a_valid_looking_hash(chain: Engine) -> None:
    """A forged entry appended with its own correct hash but a made-up prev_hash."""
    fake_prev = "a" * 64
    digest = audit.entry_hash(
        seq=6,
        at=NOW,
        actor="mallory",
        action="user.create",
        target_type=None,
        target_id=None,
        detail="{}",
        prev_hash=fake_prev,
    )
    with chain.begin() as conn:
        conn.execute(
            audit_log.insert().values(
                seq=6,
                at=NOW,
                actor="mallory",
                action="user.create",
                detail="{}",
                prev_hash=fake_prev,
                hash=digest,
            )
        )
        assert audit.verify(conn) == [
            "seq 6: chain break — prev_hash does not match the hash of seq 5 "
            "(an entry was deleted or inserted)"
        ]


def test_anchor_catches_deleting_the_newest_entries(chain: Engine) -> None:
    with chain.begin() as conn:
        anchor = audit.head(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq = 5"))
        assert audit.verify(conn) == []  # the chain alone cannot tell
        assert audit.verify(conn, anchor=anchor) == ["seq 5: anchored entry missing (deleted)"]
        audit.record(conn, actor="x", action="y", now=NOW)  # seq 5 again, other content
        assert audit.verify(conn, anchor=anchor) == [
            "seq 5: hash differs from the anchor (chain rewritten)"
        ]


def test_no_update_or_delete_api() -> None:
    names = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in names if "update" in n or "delete" in n or "remove" in n}


def test_detail_with_dates_and_chinese_text(engine: Engine) -> None:
    from datetime import date

    with engine.begin() as conn:
        audit.record(
            conn,
            actor="admin",
            action="policy.replace",
            target_type="policy",
            target_id="abc",
            detail={"effective": date(2026, 7, 1), "note": "调整逾期分档"},
            now=NOW,
        )
        stored = conn.execute(select(audit_log.c.detail)).scalar_one()
        assert stored == '{"effective":"2026-07-01","note":"调整逾期分档"}'
        assert audit.verify(conn) == []
        assert [row.seq for row in audit.entries(conn)] == [1]
