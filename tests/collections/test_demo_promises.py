"""The demo's collectors' calls with promises to pay (`collections.demo`, `runs.demo`), on a
small demo store (400 customers, 10 days; SQLite, and PostgreSQL with the env var): a small
share of the overdue customers called, every call within the contact policy and on a day the
customer was overdue, every promise decided kept or broken as a plain recount of the payments
says (some of each), and risk's `broken_promises` signal firing — every hit, and only those,
where a plain count of the customer's broken promises in the look-back window reaches the
threshold. The plan itself: the same seed the same calls, another seed others."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine, select, text

from postloan.cli.serve_cmd import demo_staff
from postloan.collections.rules.contacts import Contact, check_contact
from postloan.collections.rules.demo import GAP_DAYS, plan_promises
from postloan.collections.tables import contacts, promises
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.risk.tables import risk_hits, risk_scores
from postloan.runs.demo import demo_runs, tail_length
from postloan.runs.service import date_range
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status, cards, loans, payments
from postloan.synth import generate
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all

D = date(2026, 6, 30)
DAYS = 10


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[str, Any]]:  # fmt: skip
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{folder / 's.sqlite'}")
    else:
        schema = f"demo_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    write_contract_files(generate(accounts=560, seed=42, as_of=D), folder / "f", fmt="csv")
    import_all(url, folder / "f")
    demo_staff(url)
    results, recorded = demo_runs(url, date_range(D - timedelta(days=DAYS - 1), D),
                                  default_policy(), 42)  # fmt: skip
    yield url, (results, recorded)
    if schema is not None:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def _read(url: str) -> dict[str, list[Any]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        owners = dict(conn.execute(select(loans.c.loan_id, loans.c.customer_id)).all())
        owners.update(conn.execute(select(cards.c.card_id, cards.c.customer_id)).all())
        s, h, r = account_status, risk_hits, risk_scores
        out = {
            "contacts": list(conn.execute(select(contacts)).all()),
            "promises": list(conn.execute(select(promises)).all()),
            "status": list(conn.execute(select(s.c.as_of, s.c.customer_id, s.c.dpd)).all()),
            "payments": [(owners[p.account_id], p) for p in conn.execute(select(payments)).all()],
            "hits": list(
                conn.execute(
                    select(h.c.as_of, h.c.customer_id).where(h.c.signal_id == "broken_promises")
                ).all()
            ),
            "scored": list(conn.execute(select(r.c.as_of, r.c.customer_id)).all()),
        }
    engine.dispose()
    return out


def test_the_demo_records_calls_with_promises(demo: tuple[str, Any]) -> None:
    url, (results, recorded) = demo
    policy = default_policy()
    data = _read(url)
    assert [r.dates for r in results] == [DAYS - tail_length(DAYS), tail_length(DAYS)]
    made = data["contacts"]
    assert recorded["collections"]["contacts"] == len(made) > 0
    customers = {c.customer_id for c in made}
    assert recorded["collections"]["customers"] == len(customers)
    everyone = {customer for _, customer, _ in data["status"]}
    assert len(customers) <= 0.1 * len(everyone)  # a small share of the demo's customers
    # each call: on a day the customer was overdue (DPD on the last stored date before the
    # second run counts back to when the arrears began), within the contact policy
    last = D - timedelta(days=tail_length(DAYS))
    worst: dict[tuple[date, str], int] = {}
    for day, customer, dpd in data["status"]:
        key = (_day(day), customer)
        worst[key] = max(worst.get(key, 0), int(dpd))
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    by_customer: dict[str, list[Contact]] = {}
    for c in sorted(made, key=lambda c: (c.customer_id, c.at)):
        at = c.at if c.at.tzinfo else c.at.replace(tzinfo=UTC)
        planned = Contact(c.customer_id, at, c.channel, tuple(json.loads(c.staff)), c.outcome)
        earlier = by_customer.setdefault(c.customer_id, [])
        assert check_contact(planned, earlier, (), rules, policy.contact.min_staff_per_visit) == []
        earlier.append(planned)
        assert c.outcome == "promise_to_pay" and c.channel == "phone"
        assert worst[(last, c.customer_id)] >= (last - at.date()).days + 1
    # kept or broken: a plain recount of each promise from the payments
    paid: dict[str, list[Any]] = {}
    reversed_ids = {p.reverses_payment_id for _, p in data["payments"] if p.reverses_payment_id}
    for customer, p in data["payments"]:
        if p.reverses_payment_id is None and p.payment_id not in reversed_ids:
            paid.setdefault(customer, []).append(p)
    statuses = []
    for pr in data["promises"]:
        made_on, due_on = _day(pr.made_on), _day(pr.due_on)
        assert last <= due_on < D
        total, kept_on = 0, None
        for p in sorted(paid.get(pr.customer_id, []), key=lambda p: _day(p.value_date)):
            if made_on <= _day(p.value_date) <= due_on:
                total += int(p.amount)
                if total >= pr.amount and kept_on is None:
                    kept_on = _day(p.value_date)
        expected = ("kept", kept_on) if kept_on else ("broken", due_on + timedelta(days=1))
        assert (pr.status, _day(pr.decided_on)) == expected
        statuses.append(pr.status)
    assert {"kept", "broken"} <= set(statuses)


def test_broken_promises_fires_where_a_plain_count_says(demo: tuple[str, Any]) -> None:
    url, _ = demo
    signal = next(s for s in default_policy().risk.signals if s.id == "broken_promises")
    assert signal.lookback_days is not None
    data = _read(url)
    broken = [(p.customer_id, _day(p.decided_on)) for p in data["promises"]
              if p.status == "broken"]  # fmt: skip
    expected = set()
    for day, customer in data["scored"]:
        d = _day(day)
        count = sum(
            1
            for c, on in broken
            if c == customer and d - timedelta(days=signal.lookback_days) < on <= d
        )
        if count >= signal.threshold:
            expected.add((d, customer))
    hits = {(_day(d), c) for d, c in data["hits"]}
    assert hits and hits == expected


def test_the_plan_is_the_seeds() -> None:
    overdue = pl.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(200)],
        "dpd": [8 + (i * 7) % 90 for i in range(200)],
        "overdue_amount": [10_000 + 37 * i for i in range(200)],
        "collector": ["col"] * 200,
    })  # fmt: skip
    last, until = date(2026, 6, 20), date(2026, 6, 30)
    first = plan_promises(overdue, last, until, 42, "Asia/Shanghai")
    assert first.equals(plan_promises(overdue.reverse(), last, until, 42, "Asia/Shanghai"))
    assert not first.equals(plan_promises(overdue, last, until, 43, "Asia/Shanghai"))
    assert first.height > 0
    for r in first.iter_rows(named=True):
        dpd = overdue.filter(pl.col("customer_id") == r["customer_id"])["dpd"][0]
        assert last - r["made_on"] < timedelta(days=dpd)  # overdue on the day of the call
        assert last <= r["due_on"] <= until - timedelta(days=1)
        assert r["at"].hour == 2  # 10:00 in Shanghai
        assert r["amount"] > 0 and r["amount"] % 100 == 0
    gaps = first.group_by("customer_id").agg(pl.col("made_on").diff().dt.total_days().min())
    assert (gaps["made_on"].drop_nulls() >= GAP_DAYS).all()
