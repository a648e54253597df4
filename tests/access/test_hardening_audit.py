"""Issue 10: the audit log takes concurrent writers (eight parallel reveals gave a 500 from a
duplicate `audit_log.seq`), and an anchor kept outside the store catches a truncated tail or
a rewritten chain (`postloan audit anchor`, `postloan audit verify --anchor`)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select, update
from typer.testing import CliRunner

from postloan.access import audit
from postloan.access.tables import audit_log
from postloan.cli.main import app
from tests.access.conftest import NOW

WRITERS = 12  # within the engine's pool (5 + 10 overflow)
runner = CliRunner()


def test_parallel_appends_keep_one_chain(engine: Engine) -> None:
    """Twelve transactions append at once, each after reading something first (as a reveal
    reads the customer): every one succeeds and the chain verifies."""
    with engine.begin() as conn:
        audit.record(conn, actor="setup", action="test.start", now=NOW)
    start = threading.Barrier(WRITERS, timeout=60)

    def append(n: int) -> int:
        with engine.connect() as conn:
            audit.head(conn)  # a read before the append, in the same connection
            start.wait()
            seq = audit.record(
                conn, actor=f"user{n}", action="test.append", detail={"n": n}, now=NOW
            )
            conn.commit()
            return seq

    with ThreadPoolExecutor(WRITERS) as pool:
        seqs = list(pool.map(append, range(WRITERS)))
    assert sorted(seqs) == list(range(2, WRITERS + 2))
    with engine.connect() as conn:
        assert audit.verify(conn) == []
        actors = conn.execute(select(audit_log.c.actor).where(audit_log.c.seq > 1)).scalars()
        assert sorted(actors) == sorted(f"user{n}" for n in range(WRITERS))


def test_a_writer_waits_for_an_open_append(engine: Engine) -> None:
    """While one transaction has appended and not committed, another append waits for it
    and then chains onto it (instead of reading the same head)."""
    with engine.begin() as conn:
        audit.record(conn, actor="setup", action="test.start", now=NOW)
    first = engine.connect()
    audit.record(first, actor="first", action="test.append", now=NOW)
    done: list[int] = []
    second = threading.Thread(
        target=lambda: done.append(_append_and_commit(engine, "second")), daemon=True
    )
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second append did not wait for the first"
    first.commit()
    first.close()
    second.join(30)
    assert done == [3]
    with engine.connect() as conn:
        assert audit.verify(conn) == []


def _append_and_commit(engine: Engine, actor: str) -> int:
    with engine.begin() as conn:
        return audit.record(conn, actor=actor, action="test.append", now=NOW)


# --- the anchor -----------------------------------------------------------------------------


@pytest.fixture
def cli_store(store_url: str, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Engine:
    monkeypatch.setenv("POSTLOAN_DATABASE_URL", store_url)
    monkeypatch.delenv("POSTLOAN_USER", raising=False)
    monkeypatch.delenv("POSTLOAN_CLI_REQUIRE_LOGIN", raising=False)
    with engine.begin() as conn:
        for n in range(1, 7):
            audit.record(conn, actor=f"user{n}", action="test.entry", detail={"n": n},
                         now=NOW + timedelta(minutes=n))  # fmt: skip
    return engine


def _anchor() -> str:
    result = runner.invoke(app, ["audit", "anchor"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _verify(*extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", *extra])
    return result.exit_code, result.output


def test_anchor_prints_the_head(cli_store: Engine) -> None:
    with cli_store.connect() as conn:
        seq, digest = audit.head(conn)
    assert _anchor() == f"{seq}:{digest}"
    assert seq == 6
    code, output = _verify("--anchor", f"{seq}:{digest}")
    assert code == 0 and "holds the anchor at seq 6" in output, output


def test_anchor_catches_a_truncated_tail(cli_store: Engine) -> None:
    anchor = _anchor()
    with cli_store.begin() as conn:  # the newest entries deleted: the rest still chains
        conn.execute(delete(audit_log).where(audit_log.c.seq > 3))
    assert _verify()[0] == 0  # the chain alone cannot tell
    code, output = _verify("--anchor", anchor)
    assert code == 1
    assert "seq 6: anchored entry missing (deleted)" in output


def test_anchor_catches_a_rewritten_chain(cli_store: Engine) -> None:
    anchor = _anchor()
    with cli_store.begin() as conn:  # entry 2 altered, every hash after it recomputed
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        prev = audit.GENESIS_HASH
        for row in rows:
            actor = "someone else" if row.seq == 2 else row.actor
            digest = audit.entry_hash(
                seq=row.seq, at=row.at, actor=actor, action=row.action,
                target_type=row.target_type, target_id=row.target_id, detail=row.detail,
                prev_hash=prev,
            )  # fmt: skip
            conn.execute(
                update(audit_log)
                .where(audit_log.c.seq == row.seq)
                .values(actor=actor, prev_hash=prev, hash=digest)
            )
            prev = digest
    assert _verify()[0] == 0  # consistent: the chain alone cannot tell
    code, output = _verify("--anchor", anchor)
    assert code == 1
    assert "seq 6: hash differs from the anchor (chain rewritten)" in output


@pytest.mark.parametrize("bad", ["6", "abc:def", "6:" + "g" * 64, "-1:" + "0" * 64])
def test_a_malformed_anchor_is_a_usage_error(cli_store: Engine, bad: str) -> None:
    code, output = _verify("--anchor", bad)
    assert code == 2
    assert "SEQ:HASH" in output
