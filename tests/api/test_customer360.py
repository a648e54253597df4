"""The 360° view's ledger part against the portfolio engine and the stored run.

Every customer of the test store is opened through the API; its schedules and statements must
be exactly what the vectorised engine computes for the whole stored portfolio, its accounts'
latest status what the daily run stored, and the body must parse as the documented model.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.api.routes.customers import Customer360
from postloan.contract import write_contract_files
from postloan.engine import instalment_status, statement_status
from postloan.imports.service import import_file
from postloan.money import format_amount
from postloan.policy import default_policy
from postloan.runs.load import load_portfolio
from postloan.runs.service import run_dates
from postloan.store import bulk
from postloan.store.db import engine_for
from postloan.store.schema import account_status, loans, payments, runs
from postloan.synth import generate
from postloan.views.cache import ViewCache
from postloan.views.customer360 import ledger_json
from tests.api.conftest import World
from tests.api.test_scope_masking import _db
from tests.store.conftest import AS_OF, import_all


def _json(frame: pl.DataFrame, amounts: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for r in frame.iter_rows(named=True):
        rows.append(
            {
                k: (
                    format_amount(v)
                    if k in amounts
                    else v.isoformat()
                    if hasattr(v, "isoformat")
                    else v
                )
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


def test_view_cache_is_bounded_lru() -> None:
    cache = ViewCache(max_bytes=30)
    cache.put("a", b"x" * 10)
    cache.put("b", b"y" * 10)
    cache.put("c", b"z" * 10)
    assert cache.get("a") == b"x" * 10  # a is now the most recent
    cache.put("d", b"w" * 10)  # over 30 bytes: the least recent (b) goes
    assert cache.get("b") is None and cache.get("c") is not None and cache.get("d") is not None
    assert cache.size <= 30 and len(cache) == 3
    cache.put("huge", b"h" * 31)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 3


def test_cached_view_follows_imports_and_runs(
    make_store,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A cached view is served only while the data it shows is unchanged: a new payment
    import or a run changes the key; during a run nothing is cached."""
    url = make_store("sqlite")
    portfolio = generate(accounts=60, seed=5, as_of=AS_OF)
    write_contract_files(portfolio, tmp_path / "files", fmt="csv")
    import_all(url, tmp_path / "files")
    run_dates(url, [AS_OF], default_policy())
    engine = engine_for(url)
    policy = default_policy()
    cache = ViewCache(10_000_000)
    with engine.connect() as conn:
        loan_id, customer_id = conn.execute(select(loans.c.loan_id, loans.c.customer_id)).first()
        first = ledger_json(conn, customer_id, policy, cache=cache)
        assert ledger_json(conn, customer_id, policy, cache=cache) == first
        assert cache.hits == 1
    # A new payment lands through the importer: the next view shows it, not the cached one.
    pay = tmp_path / "more" / "payments.csv"
    pay.parent.mkdir()
    pay.write_text(
        "payment_id,account_id,value_date,amount,channel\n"
        f"p-new-1,{loan_id},{AS_OF.isoformat()},12.34,bank\n"
    )
    assert import_file("payments", pay, url).accepted == 1
    with engine.connect() as conn:
        after = orjson.loads(ledger_json(conn, customer_id, policy, cache=cache))
    assert "p-new-1" in {p["payment_id"] for p in after["payments"]}
    # While a run is storing status, views are computed fresh every time.
    with engine.begin() as conn:
        conn.execute(
            runs.insert().values(
                kind="daily", date_from=AS_OF, date_to=AS_OF, policy_version=policy.version,
                status="running", started_at=datetime.now(UTC),
            )
        )  # fmt: skip
    hits, size = cache.hits, len(cache)
    with engine.connect() as conn:
        ledger_json(conn, customer_id, policy, cache=cache)
        ledger_json(conn, customer_id, policy, cache=cache)
    assert cache.hits == hits and len(cache) == size
    engine.dispose()


def test_detail_json_equals_the_model(world: World) -> None:
    from postloan.access.masking import mask_customer
    from postloan.api.routes.customers import CustomerDetail, _customer_record, _detail_json
    from postloan.store.schema import customers

    rows = _db(world, select(customers))
    assert rows
    for row in rows:
        for role in ("admin", "collector", "marketing"):
            record = mask_customer(_customer_record(row), role)
            assert orjson.loads(_detail_json(record)) == CustomerDetail(**record).model_dump(
                mode="json"
            )


def test_360_shows_cases_and_contacts(client: TestClient, world: World) -> None:
    """The run's cases and the contacts recorded for an overdue customer, freshly (contacts
    are not part of the cached ledger view)."""
    from zoneinfo import ZoneInfo

    from postloan.collections.contacts import Contact, record_contact
    from postloan.collections.tables import cases

    (row,) = _db(world, select(cases.c.customer_id).where(cases.c.status == "open").limit(1))
    cid = row[0]
    first = client.get(f"/api/customers/{cid}", headers=world.headers("admin")).json()
    assert [c["status"] for c in first["cases"]].count("open") == 1
    engine = engine_for(world.url)
    at = datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with engine.begin() as conn:
        record_contact(
            conn, Contact(cid, at, "phone", ("collector",), "promise_to_pay"), default_policy(),
            recorded_by="collector", promise=(12_345, date(2026, 7, 8)),
        )  # fmt: skip
    engine.dispose()
    view = client.get(f"/api/customers/{cid}", headers=world.headers("admin")).json()
    (contact,) = [c for c in view["contacts"] if c["at"] == "2026-07-01T02:00:00+00:00"]
    assert contact["outcome"] == "promise_to_pay" and contact["promise_amount"] == "123.45"
    assert contact["promise_date"] == "2026-07-08" and contact["staff"] == ["collector"]
    hidden = client.get(f"/api/customers/{cid}", headers=world.headers("marketing")).json()
    assert hidden["cases"] == [] and hidden["contacts"] == []


def test_lean_sqlite_rows_equal_sqlalchemys(world: World) -> None:
    """Every statement of the view run through `views.sql.Query` returns exactly the rows —
    values and types — that `Connection.execute` returns (on SQLite the lean path, elsewhere
    the same call), for customers with loans, cards, cases and contacts."""
    from zoneinfo import ZoneInfo

    from postloan.collections import customer_view as work
    from postloan.collections.contacts import Contact, record_contact
    from postloan.collections.tables import cases
    from postloan.views import cache as view_cache
    from postloan.views import customer360 as v

    engine = engine_for(world.url)
    (case_customer,) = _db(world, select(cases.c.customer_id).where(cases.c.status == "open"))[0]
    with engine.begin() as conn:  # a contact (UTC timestamps, JSON staff) to read back
        record_contact(
            conn,
            Contact(case_customer, datetime(2026, 7, 1, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
                    "sms", ("collector",), "no_answer"),
            default_policy(), recorded_by="collector",
        )  # fmt: skip
    checked: set[str] = set()

    def same(query: Any, params: dict[str, Any]) -> None:
        lean = [tuple(r) for r in query.rows(conn, params)]
        core = [tuple(r) for r in conn.execute(query.stmt, params)]
        assert lean == core, params
        assert [[type(x) for x in r] for r in lean] == [[type(x) for x in r] for r in core]
        if lean:
            checked.add(str(query.stmt)[:40])

    with engine.connect() as conn:
        same(view_cache._VERSION, {})
        for cid in [case_customer, *world.customer_ids[:60]]:
            who = {"customer_id": cid}
            loans_ = [r[0] for r in v.LOANS.rows(conn, who)]
            cards_ = [r[0] for r in v.CARDS.rows(conn, who)]
            for query in (v.LOANS, v.CARDS, work._CASES, work._CONTACTS):
                same(query, who)
            same(v.STATUS, {**who, "dates": 5})
            same(v.EVENTS, {**who, "events": 3})
            case_ids = [r[0] for r in work._CASES.rows(conn, who)]
            if case_ids:
                same(work._STAGES, {"ids": case_ids})
            for query, ids in ((v.PAYMENTS, loans_ + cards_), (v.SCHEDULES, loans_),
                               (v.STATEMENTS, cards_), (v.ROW_COUNTS, loans_ + cards_),
                               (v.PAYMENT_COUNT, loans_ + cards_)):  # fmt: skip
                if ids:
                    same(query, {"ids": ids})
    engine.dispose()
    assert len(checked) >= 12  # every statement returned rows somewhere


def test_page_summary_equals_the_full_view(world: World) -> None:
    """The workbench page's summary (no schedule state computed) shows what the full view
    shows, and its row counts are the lengths of the full view's lists — for every customer."""
    from postloan.views.customer360 import Limits, ledger_view, page_view

    limits = Limits(history_dates=14, payments=50, events=50)
    engine = engine_for(world.url)
    sizes = set()
    with engine.connect() as conn:
        for cid in world.customer_ids:
            full = ledger_view(conn, cid, default_policy(), limits)
            page = page_view(conn, cid, limits)
            for key in ("as_of", "accounts", "status_history", "events", "payments_total"):
                assert page[key] == full[key], (cid, key)
            assert page["schedule_rows"] == len(full["schedules"]), cid
            assert page["statement_rows"] == len(full["statements"]), cid
            sizes.add((page["schedule_rows"] > 0, page["statement_rows"] > 0))
    engine.dispose()
    assert {(True, False), (False, True)} <= sizes  # loans only and cards only both seen
