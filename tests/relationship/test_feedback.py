"""Survey results back to the departments (CR-2, seed 003) over the API, on SQLite and
PostgreSQL: the department feedback report's figures (each owned dimension's CSAT with its
interval per month and the change against the month before) equal a plain recomputation; the
low-score comments are the right ones, verbatim but for numbers masked, and a branch user sees
only their branch's; low scores open one follow-up per (response, department) — again opens
nothing — and a follow-up is closed once, in scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.api.app import create_app
from postloan.policy import default_policy
from postloan.relationship import feedback, surveys
from postloan.relationship.rules.surveys import csat
from postloan.relationship.tables import survey_followups
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.api.conftest import World, populate
from tests.store.conftest import BACKENDS, make_store  # noqa: F401

API = "/api/relationship"
POLICY = default_policy()
CFG = POLICY.relationship.surveys
NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
DAYS = [date(2026, 4, 20), date(2026, 5, 10), date(2026, 5, 31), date(2026, 6, 15)]
PHONE = "13912345678"


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, make_store: Any, tmp_path: Path) -> World:  # noqa: F811
    return populate(make_store(request.param), tmp_path / "files")


@pytest.fixture
def client(fresh: World, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(fresh.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _answers(url: str) -> list[dict[str, Any]]:
    """Responses of 60 customers over DAYS, every dimension scored, some with comments."""
    engine = engine_for(url)
    made: list[dict[str, Any]] = []
    with engine.begin() as conn:
        people = conn.execute(
            select(customers.c.customer_id, customers.c.branch_id)
            .order_by(customers.c.customer_id)
            .limit(60)
        ).all()
        vid = surveys.add_version(conn, "v1", surveys.DEFAULT_QUESTIONS, actor="t", now=NOW)
        for i, (customer, branch) in enumerate(people):
            scores = {q: 1 + (i * (k + 2) + k) % 5 for k, q in enumerate(surveys.DEFAULT_QUESTIONS)}
            comment = None if i % 3 == 0 else f"第{i}号: 回电 {PHONE} 没人接"
            day = DAYS[i % len(DAYS)]
            rid = surveys.record_response(
                conn, version_id=vid, customer_id=customer, answered_on=day, csat_score=3,
                nps_score=7, answers=scores, source="workbench", actor="t", today=date(2026, 7, 1),
                policy=POLICY, now=NOW, comment=comment,
            )  # fmt: skip
            made.append({"id": rid, "customer": customer, "branch": branch, "day": day,
                         "scores": scores, "comment": comment})  # fmt: skip
    engine.dispose()
    return made


def _month(day: date) -> str:
    return day.isoformat()[:7]


def _plain_figures(made: list[dict[str, Any]]) -> dict[tuple[str, str, str], Any]:
    """(department, dimension, month) → CSAT figure, from plain lists."""
    lists: dict[tuple[str, str, str], list[int]] = {}
    for r in made:
        for dim, score in r["scores"].items():
            dept = CFG.departments[dim]
            lists.setdefault((dept, dim, _month(r["day"])), []).append(score)
    return {k: csat(v, CFG.csat_satisfied_from, CFG.confidence) for k, v in lists.items()}


def _plain_low(made: list[dict[str, Any]]) -> set[tuple[int, str, str, int]]:
    out: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for r in made:
        for dim, score in r["scores"].items():
            if score <= CFG.low_score:
                out.setdefault((r["id"], CFG.departments[dim]), []).append((dim, score))
    return {(rid, d, ",".join(sorted(x for x, _ in v)), min(s for _, s in v))
            for (rid, d), v in out.items()}  # fmt: skip


def test_department_feedback_equals_a_plain_recomputation(client: TestClient, fresh: World) -> None:
    made = _answers(fresh.url)
    engine = engine_for(fresh.url)
    with engine.begin() as conn:
        followed = {(r.response_id, r.department, r.dimensions, r.lowest)
                    for r in conn.execute(select(survey_followups))}  # fmt: skip
        assert followed == _plain_low(made) and followed
        assert feedback.all_followups(conn, POLICY, NOW) == 0  # idempotent
    engine.dispose()

    query = {"date_from": "2026-05-01", "date_to": "2026-06-30", "period": "month"}
    got = client.get(f"{API}/reports/department-feedback", params=query,
                     headers=fresh.headers("manager"))  # fmt: skip
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["periods"] == ["2026-05", "2026-06"]
    plain = _plain_figures(made)
    assert {d["department"] for d in report["departments"]} == set(CFG.departments.values())
    for d in report["departments"]:
        dims = {x["dimension"] for x in d["dimensions"]}
        assert dims == {k for k, v in CFG.departments.items() if v == d["department"]}
        for dim in d["dimensions"]:
            for p in dim["periods"]:
                want = plain[(d["department"], dim["dimension"], p["period"])]
                assert (p["n"], p["value"], p["low"], p["high"]) == (
                    want.n, want.value, want.low, want.high)  # fmt: skip
                before = plain[(d["department"], dim["dimension"],
                                "2026-04" if p["period"] == "2026-05" else "2026-05")]  # fmt: skip
                assert p["change"] == pytest.approx(want.value - before.value)
    # the low-score comments: the responses of May-June with a comment and a low owned score
    in_period = [r for r in made if r["day"] >= date(2026, 5, 1)]
    want_comments = {(rid, dept) for rid, dept, _, _ in _plain_low(in_period)
                     if next(r for r in made if r["id"] == rid)["comment"]}  # fmt: skip
    got_comments = {(c["response_id"], d["department"])
                    for d in report["departments"] for c in d["comments"]}  # fmt: skip
    assert got_comments == want_comments and got_comments
    assert PHONE not in got.text  # verbatim, but the number masked
    one = next(c for d in report["departments"] for c in d["comments"])
    original = next(r for r in made if r["id"] == one["response_id"])["comment"]
    assert one["comment"] != original and one["comment"].startswith(original.split(PHONE)[0])
    # open follow-ups per department: all of them, for head office
    for d in report["departments"]:
        assert d["open_followups"]["count"] == sum(1 for f in followed if f[1] == d["department"])

    # a branch user: only their branch's comments and follow-ups; figures over their branch
    branch_of = {r["id"]: r["branch"] for r in made}
    cs = client.get(f"{API}/reports/department-feedback", params=query,
                    headers=fresh.headers("customer_service")).json()  # fmt: skip
    seen = {c["response_id"] for d in cs["departments"] for c in d["comments"]}
    seen |= {f["response_id"] for d in cs["departments"] for f in d["open_followups"]["items"]}
    assert seen and {branch_of[s] for s in seen} == {fresh.branch}
    mine = _plain_figures([r for r in made if r["branch"] == fresh.branch])
    for d in cs["departments"]:
        for dim in d["dimensions"]:
            for p in dim["periods"]:
                want = mine.get((d["department"], dim["dimension"], p["period"]))
                assert p["n"] == (want.n if want else 0)

    # closing a follow-up: once, in scope, audited
    ours = next(f for f in sorted(followed) if branch_of[f[0]] == fresh.branch)
    theirs = next(f for f in sorted(followed) if branch_of[f[0]] != fresh.branch)
    engine = engine_for(fresh.url)
    with engine.connect() as conn:
        ids = {(r.response_id, r.department): r.followup_id
               for r in conn.execute(select(survey_followups))}  # fmt: skip
    engine.dispose()
    cs_headers = fresh.headers("customer_service")
    url = f"{API}/survey-followups/{{}}/close"
    outside = client.post(url.format(ids[theirs[:2]]), json={"note": "已回访"}, headers=cs_headers)
    assert outside.status_code == 404
    done = client.post(url.format(ids[ours[:2]]), json={"note": "已回访致歉"}, headers=cs_headers)
    assert done.status_code == 200, done.text
    again = client.post(url.format(ids[ours[:2]]), json={"note": "again"}, headers=cs_headers)
    assert again.status_code == 409
    after = client.get(f"{API}/reports/department-feedback", params=query,
                       headers=fresh.headers("manager")).json()  # fmt: skip
    counts = {d["department"]: d["open_followups"]["count"] for d in after["departments"]}
    assert counts[ours[1]] == sum(1 for f in followed if f[1] == ours[1]) - 1
    assert json.dumps(after).count(f'"followup_id": {ids[ours[:2]]},') == 0
