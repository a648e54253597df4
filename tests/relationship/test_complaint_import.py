"""`postloan import complaints FILE` (CR-3 intake by import), on SQLite and PostgreSQL: good
rows land routed with their `received` event, each bad row is rejected naming its column and
reason, a re-import lands nothing again, a changed row under a stored reference is refused;
and the command end to end (Typer's runner, in process)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from postloan.cli.main import app
from postloan.errors import RefusedError
from postloan.policy import default_policy
from postloan.relationship import complaints
from postloan.relationship.complaint_import import import_complaints
from postloan.relationship.tables import complaint_events
from postloan.relationship.tables import complaints as complaint_table
from postloan.store.db import engine_for, ready
from postloan.store.schema import cards, customers, imports, loans
from tests.relationship.conftest import NOW
from tests.store.conftest import import_all

POLICY = default_policy()
TODAY = date(2026, 6, 30)
HEADER = ["complaint_ref", "customer_id", "account_id", "received_on", "channel",
          "business_type", "reason", "summary", "complained_about"]  # fmt: skip


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _ids(url: str) -> tuple[str, str, str, str]:
    """Two customers, a loan of the first, a card or loan of the second."""
    engine = engine_for(url)
    with engine.begin() as conn:
        loan = conn.execute(select(loans.c.customer_id, loans.c.loan_id).limit(1)).one()
        other = (
            conn.execute(
                select(cards.c.customer_id, cards.c.card_id).where(
                    cards.c.customer_id != loan.customer_id
                )
            ).first()
            or conn.execute(
                select(loans.c.customer_id, loans.c.loan_id).where(
                    loans.c.customer_id != loan.customer_id
                )
            ).one()
        )
    engine.dispose()
    return loan[0], loan[1], other[0], other[1]


def _rows(a: str, loan_a: str, b: str, account_b: str) -> tuple[list[list[str]], dict[int, str]]:
    good = [
        ["12378-0001", a, loan_a, "2026-06-01", "third_party", "loans", "service",
         "客户称经办人态度差", "cs2"],
        ["CC-2026-77", b, "", "2026-06-15", "phone", "collection", "collection_conduct",
         "催收电话过于频繁", " cs1 ; senior ;cs1"],
        ["CC-2026-78", b, account_b, "2026-06-30", "app", "personal_info", "info_security",
         "short", ""],
    ]  # fmt: skip
    bad = [
        (["X-1", "NOPE", "", "2026-06-01", "phone", "loans", "service", "s", ""], "customer_id"),
        (["X-2", a, "", "2026-06-01", "fax", "loans", "service", "s", ""], "channel"),
        (["X-3", a, "", "2026-07-01", "phone", "loans", "service", "s", ""], "received_on"),
        (["X-4", a, "", "2026-13-01", "phone", "loans", "service", "s", ""], "received_on"),
        (["X-5", a, "", "2026-06-01", "phone", "loans", "service", "", ""], "summary"),
        (["X-6", a, account_b, "2026-06-01", "phone", "loans", "service", "s", ""],
         "account_id"),
        (["CC-2026-77", b, "", "2026-06-15", "phone", "collection", "collection_conduct",
          "again", ""], "complaint_ref"),
        (["X-8", a, "", "2026-06-01", "phone", "loans", "service", "s",
          ";".join(f"u{i}" for i in range(11))], "complained_about"),
        (["X-9", a, "", "2026-06-01", "phone", "loans", "nosuch", "s", ""], "reason"),
    ]  # fmt: skip
    rows = good + [r for r, _ in bad]
    # data row number (1-based, as in the rejects file) → the column it is rejected for
    expected = {len(good) + i + 1: col for i, (_, col) in enumerate(bad)}
    return rows, expected


def test_import_lands_good_rows_rejects_bad_ones_and_is_idempotent(
    store: str, tmp_path: Path
) -> None:
    a, loan_a, b, account_b = _ids(store)
    rows, expected = _rows(a, loan_a, b, account_b)
    path = _write(tmp_path / "complaints.csv", rows)
    result = import_complaints(store, path, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (result.rows, result.accepted, result.unchanged, result.rejected) == (12, 3, 0, 9)
    assert result.rejects_file is not None
    with result.rejects_file.open(encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))
    assert {int(r["reject_row"]): r["reject_column"] for r in rejects} == expected
    by_row = {int(r["reject_row"]): r for r in rejects}
    assert "not a stored customer" in by_row[4]["reject_reason"]
    assert "repeated in the file" in by_row[10]["reject_reason"]
    assert by_row[5]["reject_value"] == "fax" and by_row[5]["complaint_ref"] == "X-2"

    engine = engine_for(store)
    with engine.begin() as conn:
        stored = {
            r.complaint_ref: r
            for r in conn.execute(
                select(complaint_table).where(complaint_table.c.complaint_ref.is_not(None))
            )
        }
        assert set(stored) == {"12378-0001", "CC-2026-77", "CC-2026-78"}
        # plain: each good line as the store must keep it
        for line in rows[:3]:
            got = stored[line[0]]
            assert got.customer_id == line[1] and (got.account_id or "") == line[2]
            assert str(got.received_on)[:10] == line[3]
            assert (got.channel, got.business_type, got.reason, got.summary) == tuple(line[4:8])
            assert got.department == POLICY.relationship.complaints.routing[line[5]]
            names = sorted({n.strip() for n in line[8].split(";") if n.strip()})
            assert got.complained_about == ",".join(names) and got.created_by == "ops1"
        first = stored["12378-0001"]
        kinds = [e.kind for e in complaints.events(conn, first.complaint_id)]
        assert kinds == ["received"]
        clock = complaints.clock_of(first, POLICY, TODAY)
        # received 2026-06-01: 15 days to 2026-06-16, undecided on 2026-06-30
        assert clock.status == "breached" and clock.deadline == date(2026, 6, 16)
        # 回避 holds for imported complaints: cs2 is named in the first one
        with pytest.raises(RefusedError) as named:
            complaints.assign(conn, first.complaint_id, "cs2", actor="cs1", today=TODAY, now=NOW)
        assert named.value.code == "recusal"
        n_events = conn.execute(select(func.count()).select_from(complaint_events)).scalar_one()
    engine.dispose()

    again = import_complaints(store, path, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (again.accepted, again.unchanged, again.rejected) == (0, 3, 9)
    changed = [list(r) for r in rows[:3]]
    changed[1][7] = "内容被改"
    fixed = _write(tmp_path / "fixed.csv", changed)
    third = import_complaints(store, fixed, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (third.accepted, third.unchanged, third.rejected) == (0, 2, 1)
    assert third.rejects_file is not None
    with third.rejects_file.open(encoding="utf-8") as f:
        (only,) = list(csv.DictReader(f))
    assert only["reject_column"] == "complaint_ref" and "different content" in only["reject_reason"]

    engine = engine_for(store)
    with engine.begin() as conn:
        count = select(func.count()).select_from(complaint_table)
        assert (
            conn.execute(count.where(complaint_table.c.complaint_ref.is_not(None))).scalar_one()
            == 3
        )
        assert (
            conn.execute(select(func.count()).select_from(complaint_events)).scalar_one()
            == n_events
        )
        logged = conn.execute(select(imports.c.accepted).where(imports.c.kind == "complaints"))
        assert sorted(logged.scalars()) == [0, 0, 3]
    engine.dispose()


def test_a_file_without_a_required_column_is_refused_whole(store: str, tmp_path: Path) -> None:
    from postloan.imports.errors import ImportFileError

    path = tmp_path / "c.csv"
    path.write_text("complaint_ref,customer_id\nA,B\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        import_complaints(store, path, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert "received_on" in str(refused.value)


def test_the_import_command(
    tmp_path: Path, rel_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTLOAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTLOAN_DATA_DIR", str(tmp_path))
    url = ready()
    import_all(url, rel_files)
    engine = engine_for(url)
    with engine.begin() as conn:
        customer = conn.execute(select(customers.c.customer_id).limit(1)).scalar_one()
    engine.dispose()
    today = datetime.now(UTC).date().isoformat()
    path = _write(tmp_path / "in.csv", [
        ["R-1", customer, "", today, "phone", "loans", "service", "慢", ""],
        ["R-2", customer, "", today, "phone", "loans", "bogus", "慢", ""],
    ])  # fmt: skip
    env = {"POSTLOAN_DATA_DIR": str(tmp_path), "POSTLOAN_CLI_REQUIRE_LOGIN": "",
           "POSTLOAN_USER": "", "POSTLOAN_DATABASE_URL": ""}  # fmt: skip
    got = runner_invoke(["import", "complaints", str(path)], env)
    assert got.exit_code == 1, got.output
    assert "complaints: 2 rows — 1 imported, 0 unchanged, 1 rejected" in got.output
    assert (tmp_path / "in.rejects.csv").is_file()
    again = runner_invoke(["import", "complaints", str(path)], env)
    assert "0 imported, 1 unchanged, 1 rejected" in again.output
    unknown = runner_invoke(["import", "grievances", str(path)], env)
    assert unknown.exit_code == 2 and "complaints" in unknown.output


def runner_invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env=env)
