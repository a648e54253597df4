"""The agreements API: a collector proposes, a supervisor approves (never the proposer, even an
admin), bad input names its field, scope hides other branches' agreements, and the next daily
run follows the approved schedule with the loan restructured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from postloan.access.tables import assignments, audit_log
from postloan.api.app import create_app
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store import bulk
from postloan.store.db import engine_for
from postloan.store.schema import account_status, cards, customers, loans
from tests.api.conftest import AS_OF, BACKENDS, World, populate

FIRST_DUE = AS_OF + timedelta(days=20)


@pytest.fixture(params=BACKENDS)
def fresh(
    request: pytest.FixtureRequest, make_store: Any, tmp_path: Path
) -> Iterator[tuple[World, TestClient]]:
    world = populate(make_store(request.param), tmp_path / "files")
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield world, client


def _loans(world: World, least_dpd: int, most_dpd: int = 10_000) -> list[str]:
    """Loans at least_dpd..most_dpd on AS_OF, their customers moved to `world.branch` (the
    synthetic store has only a couple of loans past 30 DPD, in any branch)."""
    engine = engine_for(world.url)
    with engine.begin() as conn:
        rows = conn.execute(
            select(account_status.c.account_id, account_status.c.customer_id)
            .join(loans, loans.c.loan_id == account_status.c.account_id)
            .where(
                account_status.c.as_of == AS_OF,
                account_status.c.dpd >= least_dpd,
                account_status.c.dpd <= most_dpd,
            )
            .order_by(account_status.c.account_id)
        ).all()
        conn.execute(
            update(customers)
            .where(customers.c.customer_id.in_([r.customer_id for r in rows]))
            .values(branch_id=world.branch)
        )
    engine.dispose()
    return [r.account_id for r in rows]


def _move(world: World, loan_id: str, branch: str) -> None:
    engine = engine_for(world.url)
    with engine.begin() as conn:
        customer = select(loans.c.customer_id).where(loans.c.loan_id == loan_id)
        conn.execute(
            update(customers)
            .where(customers.c.customer_id == customer.scalar_subquery())
            .values(branch_id=branch)
        )
    engine.dispose()


def _assign(world: World, who: str, loan_id: str) -> None:
    engine = engine_for(world.url)
    with engine.begin() as conn:
        customer = conn.execute(select(loans.c.customer_id).where(loans.c.loan_id == loan_id))
        conn.execute(
            assignments.insert().values(
                user_id=world.users[who].user_id, customer_id=customer.scalar_one()
            )
        )
    engine.dispose()


def _body(account_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "kind": "instalments",
        "instalments": 12,
        "first_due_date": FIRST_DUE.isoformat(),
        "reason": "income fell; pays from July",
        **kw,
    }


def test_propose_approve_and_the_next_run(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    mine = _loans(world, 31)[0]
    _assign(world, "collector", mine)
    collector, supervisor, admin = (
        world.headers(r) for r in ("collector", "collection_supervisor", "admin")
    )

    # the proposer never decides, even as admin; one live agreement per loan
    own = client.post("/api/agreements", json=_body(mine), headers=admin).json()
    refused = client.post(f"/api/agreements/{own['agreement_id']}/approve", headers=admin)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "maker_checker")
    again = client.post("/api/agreements", json=_body(mine), headers=collector)
    assert (again.status_code, again.json()["error"]["field"]) == (409, "account_id")
    gone = client.post(f"/api/agreements/{own['agreement_id']}/withdraw", headers=admin)
    assert gone.json()["status"] == "withdrawn"

    made = client.post("/api/agreements", json=_body(mine), headers=collector)
    assert made.status_code == 201, made.text
    agreement = made.json()
    assert (agreement["status"], agreement["proposed_by"]) == ("proposed", "collector")
    agreed = [r for r in agreement["schedule"] if r["agreed"]]
    assert len(agreed) == 12 and agreed[0]["due_date"] == FIRST_DUE.isoformat()
    owed = sum(Decimal(r["principal_due"]) + Decimal(r["interest_due"]) for r in agreed)
    assert owed == Decimal(agreement["amount"])
    number = agreement["agreement_id"]

    refused = client.post(f"/api/agreements/{number}/approve", headers=collector)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")

    approved = client.post(
        f"/api/agreements/{number}/approve", json={"note": "checked"}, headers=supervisor
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["decided_by"], body["decision_note"]) == (
        "approved",
        "collection_supervisor",
        "checked",
    )
    assert body["effective_date"] == (AS_OF + timedelta(days=1)).isoformat()
    assert body["schedule"] == agreement["schedule"]  # what was shown is what was fixed
    twice = client.post(f"/api/agreements/{number}/reject", headers=supervisor)
    assert (twice.status_code, twice.json()["error"]["field"]) == (409, "agreement_id")

    listed = client.get("/api/agreements", params={"status": "approved"}, headers=collector)
    assert [a["agreement_id"] for a in listed.json()["items"]] == [number]
    assert listed.json()["items"][0]["schedule"] is None
    everything = client.get(
        "/api/agreements", params={"with_schedule": True}, headers=world.headers("risk_manager")
    ).json()
    assert everything["total"] == 2 and everything["items"][0]["schedule"] is not None
    assert client.get("/api/agreements", headers=world.headers("collector2")).json()["total"] == 0

    engine = engine_for(world.url)
    with engine.connect() as conn:
        trail = [
            r.action
            for r in conn.execute(
                select(audit_log.c.action)
                .where(audit_log.c.action.like("agreement.%"))
                .order_by(audit_log.c.seq)
            )
        ]
    engine.dispose()
    assert trail == [
        "agreement.propose",
        "agreement.withdraw",
        "agreement.propose",
        "agreement.approve",
    ]
    client.close()  # the run writes through ADBC: no pooled SQLite connection may stay open
    client.app.state.engine.dispose()  # type: ignore[attr-defined]
    client.app.state.loop_engine.dispose()  # type: ignore[attr-defined]

    run_dates(world.url, [AS_OF + timedelta(days=1)], default_policy())
    st = account_status
    with bulk.connect(world.url) as conn:
        status = bulk.read(
            conn,
            select(st.c.account_id, st.c.dpd, st.c.risk_class, st.c.restructured).where(
                st.c.as_of == AS_OF + timedelta(days=1)
            ),
        )
    row = status.filter(pl.col("account_id") == mine).to_dicts()[0]
    assert (row["dpd"], row["restructured"]) == (0, True)
    assert row["risk_class"] in ("special_mention", "substandard", "doubtful", "loss")
    assert status.filter(pl.col("account_id") != mine)["restructured"].sum() == 0


def test_bad_input_names_the_field_and_scope_hides(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    admin, supervisor = world.headers("admin"), world.headers("collection_supervisor")
    eligible, far = _loans(world, 31)[:2]
    _move(world, far, world.other_branch)
    early = _loans(world, 1, 30)[0]
    engine = engine_for(world.url)
    with engine.connect() as conn:
        card = conn.execute(select(cards.c.card_id).limit(1)).scalar_one()
    engine.dispose()

    cases = [
        (_body(eligible, kind="restructure"), 422, "kind"),
        (_body(eligible, instalments=0), 422, "instalments"),
        (_body(eligible, instalments=61), 422, "instalments"),
        (_body(eligible, first_due_date=AS_OF.isoformat()), 422, "first_due_date"),
        (_body(eligible, first_due_date="2026-13-01"), 422, "first_due_date"),
        (
            _body(eligible, kind="extension", instalments=None, first_due_date=None),
            422,
            "extension_months",
        ),
        (_body(eligible, extension_months=2), 422, "extension_months"),
        (_body(early), 422, "account_id"),
        (_body(card), 422, "account_id"),
        (_body("NO-SUCH-LOAN"), 404, "account_id"),
    ]
    for body, status, field in cases:
        answer = client.post("/api/agreements", json=body, headers=admin)
        assert (answer.status_code, answer.json()["error"]["field"]) == (status, field), body
    assert client.post("/api/agreements/99/approve", headers=supervisor).status_code == 404

    # another branch's agreement: invisible to the branch supervisor, in lists and actions
    made = client.post("/api/agreements", json=_body(far), headers=admin).json()
    hidden = client.post(f"/api/agreements/{made['agreement_id']}/approve", headers=supervisor)
    assert (hidden.status_code, hidden.json()["error"]["field"]) == (404, "agreement_id")
    assert client.get("/api/agreements", headers=supervisor).json()["total"] == 0
    out_of_scope = client.post(
        "/api/agreements", json=_body(far), headers=world.headers("collector")
    )
    assert out_of_scope.status_code == 404
