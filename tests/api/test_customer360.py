"""The 360° view's ledger part against the portfolio engine and the stored run.

Every customer of the test store is opened through the API; its schedules and statements must
be exactly what the vectorised engine computes for the whole stored portfolio, its accounts'
latest status what the daily run stored, and the body must parse as the documented model.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.api.routes.customers import Customer360
from postloan.engine import instalment_status, statement_status
from postloan.money import format_amount
from postloan.policy import default_policy
from postloan.runs.load import load_portfolio
from postloan.store import bulk
from postloan.store.schema import account_status, payments
from tests.api.conftest import World
from tests.api.test_scope_masking import _db
from tests.store.conftest import AS_OF


def _json(frame: pl.DataFrame, amounts: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for r in frame.iter_rows(named=True):
        rows.append(
            {
                k: (format_amount(v) if k in amounts else v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in r.items()
            }
        )
    return rows


def test_360_equals_engine_and_stored_status(client: TestClient, world: World) -> None:
    with bulk.connect(world.url) as conn:
        portfolio = load_portfolio(conn)
    policy = default_policy()
    inst = instalment_status(portfolio, AS_OF, policy)
    st = statement_status(portfolio, AS_OF, policy)
    seen_loans = seen_cards = 0
    for cid in world.customer_ids:
        response = client.get(f"/api/customers/{cid}", headers=world.headers("admin"))
        assert response.status_code == 200
        view = Customer360.model_validate_json(response.content).model_dump(mode="json")
        ids = [a["account_id"] for a in view["accounts"]]
        expected_inst = _json(
            inst.filter(pl.col("account_id").is_in(ids)),
            ("principal_due", "interest_due", "covered_principal", "covered_interest"),
        )
        got_inst = sorted(view["schedules"], key=lambda r: (r["account_id"], r["period"]))
        assert [dict(sorted(r.items())) for r in got_inst] == [
            dict(sorted(r.items())) for r in expected_inst
        ], cid
        expected_st = _json(
            st.filter(pl.col("account_id").is_in(ids)),
            ("statement_balance", "minimum_due", "minimum_covered"),
        )
        assert [dict(sorted(r.items())) for r in view["statements"]] == [
            dict(sorted(r.items())) for r in expected_st
        ], cid
        seen_loans += len(got_inst)
        seen_cards += len(view["statements"])
        stored = {
            r.account_id: r
            for r in _db(world, select(account_status).where(
                account_status.c.customer_id == cid, account_status.c.as_of == AS_OF))
        }  # fmt: skip
        for account in view["accounts"]:
            row = stored.get(account["account_id"])
            if row is None:
                assert account["status"] is None
                continue
            status = account["status"]
            assert status["dpd"] == row.dpd and status["bucket"] == row.bucket
            assert status["overdue_amount"] == format_amount(row.overdue_amount)
        (count,) = _db(
            world, select(func.count()).select_from(payments).where(payments.c.account_id.in_(ids))
        )
        assert view["payments_total"] == count[0]
    assert seen_loans > 100 and seen_cards > 20  # the store really has both kinds


def test_360_lists_are_limited_newest_first(client: TestClient, world: World) -> None:
    counts = {}
    for cid in world.customer_ids[:40]:
        view = client.get(f"/api/customers/{cid}", headers=world.headers("admin")).json()
        counts[cid] = view["payments_total"]
    cid = max(counts, key=lambda c: counts[c])
    assert counts[cid] >= 3
    short = client.get(
        f"/api/customers/{cid}?payments_shown=2&history=1", headers=world.headers("admin")
    ).json()
    full = client.get(f"/api/customers/{cid}", headers=world.headers("admin")).json()
    assert short["payments_total"] == full["payments_total"] == counts[cid]
    assert short["payments"] == full["payments"][:2]
    dates = [p["value_date"] for p in full["payments"]]
    assert dates == sorted(dates, reverse=True)
    assert {s["as_of"] for s in short["status_history"]} == {full["as_of"]}
