"""`postloan import survey-responses FILE` (CR-2 responses by import), on SQLite and
PostgreSQL: good rows land (answering invitations or walk-in), each bad row is rejected naming
its column and reason in the rejects file, an invitation is answered once (in the file and
against the store), a re-import lands nothing again, a changed row under a stored key is
refused, Parquet reads like CSV; low scores open their department's follow-ups exactly as a
plain recomputation says; and the command end to end."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from postloan.access.tables import audit_log
from postloan.cli.main import app
from postloan.errors import ConflictError
from postloan.policy import default_policy
from postloan.relationship import surveys
from postloan.relationship.survey_import import import_responses
from postloan.relationship.tables import survey_followups, survey_invitations, survey_responses
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers, imports
from tests.relationship.conftest import NOW
from tests.store.conftest import import_all

POLICY = default_policy()
TODAY = date(2026, 6, 30)
Q = list(surveys.DEFAULT_QUESTIONS)
HEADER = ["invitation_id", "customer_id", "version_id", "answered_on", "csat", "nps", *Q,
          "comment"]  # fmt: skip


def _write(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _setup(url: str) -> tuple[list[str], int, int, dict[str, int]]:
    """Four customers, two questionnaire versions (all five questions; two only) and
    invitations: sent to a, b and c, one refused to d."""
    engine = engine_for(url)
    with engine.begin() as conn:
        ids = list(conn.execute(select(customers.c.customer_id).order_by(
            customers.c.customer_id).limit(4)).scalars())  # fmt: skip
        v1 = surveys.add_version(conn, "v1", Q, actor="cs1", now=NOW)
        v2 = surveys.add_version(conn, "v2", ["efficiency", "quality"], actor="cs1", now=NOW)
        inv = {}
        for customer, status in zip(ids, ["invited", "invited", "invited", "refused"], strict=True):
            key = conn.execute(insert(survey_invitations).values(
                customer_id=customer, event="complaint_decided",
                event_key=f"test:{customer}", invited_on=date(2026, 6, 10), channel="sms",
                status=status, refused_rules=None if status == "invited" else "marketing_consent",
            )).inserted_primary_key  # fmt: skip
            assert key is not None
            inv[customer] = int(key[0])
    engine.dispose()
    return ids, v1, v2, inv


def _followups_plain(stored: list[dict[str, object]]) -> set[tuple[int, str, str, int]]:
    """Plain: per response, each department owning a dimension scored ≤ low_score."""
    owners, low = POLICY.relationship.surveys.departments, POLICY.relationship.surveys.low_score
    out: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for r in stored:
        for dim, score in json.loads(str(r["answers"])).items():
            if score <= low and dim in owners:
                out.setdefault((int(str(r["response_id"])), owners[dim]), []).append((dim, score))
    return {(rid, dept, ",".join(sorted(d for d, _ in v)), min(s for _, s in v))
            for (rid, dept), v in out.items()}  # fmt: skip


def test_import_lands_good_rows_rejects_bad_ones_and_is_idempotent(
    store: str, tmp_path: Path
) -> None:
    (a, b, c, d), v1, v2, inv = _setup(store)
    good = [
        [inv[a], "", v1, "2026-06-12", 5, 10, 5, 4, 5, 5, 4, "很满意"],
        [inv[b], b, v1, "2026-06-15", 2, 3, 1, 2, 4, "", 3, "办事太慢, 打了13912345678没人接"],
        ["", c, v2, "2026-06-20", 4, 8, 2, 5, "", "", "", ""],
    ]
    bad = [
        (["", c, v1, "2026-06-20", 6, 8, 3, 3, 3, 3, 3, ""], "csat"),
        (["", c, v1, "2026-06-21", 4, 11, 3, 3, 3, 3, 3, ""], "nps"),
        (["", c, v1, "2026-06-22", 4, 8, 0, 3, 3, 3, 3, ""], "efficiency"),
        (["", c, v2, "2026-06-23", 4, 8, 3, 3, 3, "", "", ""], "products"),
        (["", c, 999, "2026-06-24", 4, 8, "", "", "", "", "", ""], "version_id"),
        ([999999, "", v1, "2026-06-24", 4, 8, "", "", "", "", "", ""], "invitation_id"),
        ([inv[d], "", v1, "2026-06-24", 4, 8, "", "", "", "", "", ""], "invitation_id"),
        ([inv[c], a, v1, "2026-06-24", 4, 8, "", "", "", "", "", ""], "customer_id"),
        ([inv[c], "", v1, "2026-06-01", 4, 8, "", "", "", "", "", ""], "answered_on"),
        (["", c, v1, "2026-07-01", 4, 8, "", "", "", "", "", ""], "answered_on"),
        (["", c, v1, "2026-02-30", 4, 8, "", "", "", "", "", ""], "answered_on"),
        (["", "", v1, "2026-06-24", 4, 8, "", "", "", "", "", ""], "customer_id"),
        (["", "NOPE", v1, "2026-06-24", 4, 8, "", "", "", "", "", ""], "customer_id"),
        ([inv[a], "", v1, "2026-06-13", 4, 8, "", "", "", "", "", ""], "invitation_id"),
        (["", c, v2, "2026-06-20", 4, 8, 2, 5, "", "", "", ""], "customer_id"),
        (["", c, v1, "2026-06-25", 4, 8, "", "", "", "", "", "x" * 2001], "comment"),
    ]
    rows = good + [r for r, _ in bad]
    expected = {len(good) + i + 1: col for i, (_, col) in enumerate(bad)}
    path = _write(tmp_path / "responses.csv", rows)
    result = import_responses(store, path, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (result.rows, result.accepted, result.unchanged, result.rejected) == (
        len(rows), 3, 0, len(bad))  # fmt: skip
    assert result.rejects_file is not None
    with result.rejects_file.open(encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))
    assert {int(r["reject_row"]): r["reject_column"] for r in rejects} == expected
    by_row = {int(r["reject_row"]): r for r in rejects}
    assert "not a question of the row's questionnaire version" in by_row[7]["reject_reason"]
    assert "refused" in by_row[10]["reject_reason"]
    assert "answered twice in the file" in by_row[17]["reject_reason"]
    assert by_row[4]["reject_value"] == "6" and by_row[4]["customer_id"] == c

    engine = engine_for(store)
    with engine.begin() as conn:
        stored = [dict(r._mapping) for r in conn.execute(
            select(survey_responses).order_by(survey_responses.c.response_id))]  # fmt: skip
        assert len(stored) == 3
        for line, got in zip(good, stored, strict=True):  # plain: as the store must keep it
            want_customer = line[1] or a
            assert (got["invitation_id"], got["customer_id"]) == (line[0] or None, want_customer)
            assert (got["version_id"], str(got["answered_on"])[:10]) == (line[2], line[3])
            assert (got["csat"], got["nps"], got["source"]) == (line[4], line[5], "import")
            scored = {k: v for k, v in zip(Q, line[6:11], strict=True) if v != ""}
            assert json.loads(got["answers"]) == scored
            assert got["answers"] == json.dumps(scored, sort_keys=True)
            assert got["comment"] == (line[11] or None)
        followed = {
            (r.response_id, r.department, r.dimensions, r.lowest)
            for r in conn.execute(select(survey_followups))
        }
        assert followed == _followups_plain(stored) and followed
        # the invitation answered by the file cannot be answered again
        with pytest.raises(ConflictError):
            surveys.record_response(
                conn, version_id=v1, customer_id=a, answered_on=TODAY, csat_score=3,
                nps_score=5, answers={}, source="workbench", actor="cs1", today=TODAY,
                policy=POLICY, now=NOW, invitation_id=inv[a],
            )  # fmt: skip
        audits = conn.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.action == "survey.imported")).scalar_one()  # fmt: skip
        assert audits == 1
    engine.dispose()

    again = import_responses(store, path, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (again.accepted, again.unchanged, again.rejected) == (0, 3, len(bad))
    changed = [list(r) for r in good]
    changed[1][4] = 3
    fixed = _write(tmp_path / "fixed.csv", changed)
    third = import_responses(store, fixed, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (third.accepted, third.unchanged, third.rejected) == (0, 2, 1)
    assert third.rejects_file is not None
    with third.rejects_file.open(encoding="utf-8") as f:
        (only,) = list(csv.DictReader(f))
    assert only["reject_row"] == "2" and "different content" in only["reject_reason"]

    # Parquet reads like CSV: a walk-in answer lands, its low score followed up once
    parquet = tmp_path / "more.parquet"
    pl.DataFrame({"customer_id": [d], "version_id": [v1], "answered_on": ["2026-06-28"],
                  "csat": [1], "nps": [0], "attitude": [1], "comment": ["态度差"]}
                 ).write_parquet(parquet)  # fmt: skip
    fourth = import_responses(store, parquet, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert (fourth.accepted, fourth.rejected, fourth.rejects_file) == (1, 0, None)
    engine = engine_for(store)
    with engine.begin() as conn:
        stored = [dict(r._mapping) for r in conn.execute(select(survey_responses))]
        followed = {
            (r.response_id, r.department, r.dimensions, r.lowest)
            for r in conn.execute(select(survey_followups))
        }
        assert followed == _followups_plain(stored)
        logged = conn.execute(select(imports.c.accepted).where(
            imports.c.kind == "survey-responses"))  # fmt: skip
        assert sorted(logged.scalars()) == [0, 0, 1, 3]
    engine.dispose()


def test_a_file_without_a_required_column_is_refused_whole(store: str, tmp_path: Path) -> None:
    from postloan.imports.errors import ImportFileError

    path = tmp_path / "r.csv"
    path.write_text("version_id,answered_on,csat,nps\n1,2026-06-01,4,9\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        import_responses(store, path, None, "ops1", today=TODAY, now=NOW, policy=POLICY)
    assert "invitation_id or customer_id" in str(refused.value)


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
        version = surveys.add_version(conn, "v1", Q, actor="cs1", now=NOW)
    engine.dispose()
    today = datetime.now(UTC).date().isoformat()
    path = _write(tmp_path / "in.csv", [
        ["", customer, version, today, 4, 9, "", "", "", "", "", ""],
        ["", customer, version, today, 9, 9, "", "", "", "", "", ""],
    ])  # fmt: skip
    env = {"POSTLOAN_DATA_DIR": str(tmp_path), "POSTLOAN_CLI_REQUIRE_LOGIN": "",
           "POSTLOAN_USER": "", "POSTLOAN_DATABASE_URL": ""}  # fmt: skip
    got = CliRunner().invoke(app, ["import", "survey-responses", str(path)], env=env)
    assert got.exit_code == 1, got.output
    assert "survey-responses: 2 rows — 1 imported, 0 unchanged, 1 rejected" in got.output
    assert (tmp_path / "in.rejects.csv").is_file()
    again = CliRunner().invoke(app, ["import", "survey-responses", str(path)], env=env)
    assert "0 imported, 1 unchanged, 1 rejected" in again.output
