"""Collection KPIs against a plain recomputation from the stored rows (loops, no polars).

A store run over 45 days with two collectors (allocation assigns the cases), contacts and a
kept promise recorded in the period, and one overdue account written off part-way: every
portfolio and collector figure and the cure rates equal the reference.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from postloan.access.roles import Role
from postloan.access.tables import users
from postloan.access.users import create_user
from postloan.collections.casework_tables import reassignments
from postloan.collections.contacts import Contact, record_contact
from postloan.collections.disposals import decide_disposal, propose_disposal
from postloan.collections.kpis import KpiError, collection_kpis
from postloan.collections.legal_tables import account_disposals, legal_costs
from postloan.collections.tables import cases, contacts, promises
from postloan.errors import InvalidError
from postloan.money import parse_amount
from postloan.policy import default_policy
from postloan.runs.service import date_range, run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers, payments
from tests.collections.test_case_store import _store
from tests.store.conftest import AS_OF, BACKENDS

POLICY = default_policy()
FIRST = AS_OF - timedelta(days=44)
DATES = date_range(FIRST, AS_OF)
START = FIRST + timedelta(days=10)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _d(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _build(make_store: Any, backend: str, folder: Path) -> tuple[str, str]:
    url = _store(make_store, backend, folder)
    engine = engine_for(url)
    with engine.begin() as conn:
        branches = sorted(set(conn.execute(select(customers.c.branch_id)).scalars()))
        for i, branch in enumerate(branches):
            for n in range(2):
                create_user(
                    conn,
                    username=f"col{i}{n}",
                    password="a long password",
                    role=Role.COLLECTOR,
                    branch_id=branch,
                    team=f"team{n}",
                    now=NOW,
                )
    engine.dispose()
    run_dates(url, DATES[:30], POLICY)
    engine = engine_for(url)
    with engine.begin() as conn:
        victim = conn.execute(
            select(account_status.c.account_id)
            .where(account_status.c.as_of == DATES[29], account_status.c.dpd > 60)
            .order_by(account_status.c.account_id)
        ).scalars().first()  # fmt: skip
        assert victim is not None, "the portfolio has a badly overdue loan to write off"
        key = propose_disposal(
            conn,
            account_id=victim,
            kind="write_off",
            effective_on=DATES[30],
            reason="uncollectable",
            user="legal",
            now=NOW,
        )
        decide_disposal(conn, key, approve=True, user="risk", now=NOW)
    engine.dispose()
    run_dates(url, DATES[30:], POLICY)
    engine = engine_for(url)
    with engine.begin() as conn:  # contacts in the period, by the customers' collectors
        open_cases = (
            conn.execute(
                select(cases.c.customer_id)
                .where(cases.c.status == "open")
                .order_by(cases.c.customer_id)
            )
            .scalars()
            .all()
        )
        for i, customer in enumerate(open_cases[:6]):
            at = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 3, tzinfo=UTC) - timedelta(days=i)
            promise = (parse_amount("1.00"), AS_OF - timedelta(days=3)) if i == 5 else None
            record_contact(
                conn, Contact(customer, at, "phone" if i % 2 else "sms", ("col00",),
                              "promise_to_pay" if promise else "sent"),
                POLICY, recorded_by="col00", promise=promise,
            )  # fmt: skip
    engine.dispose()
    # Re-run the last dates: the promise (made 5 days ago, due 3 days ago) is decided kept or
    # broken within the period.
    run_dates(url, DATES[-6:], POLICY)
    return url, victim


def _reference(url: str, start: date, end: date) -> dict[str, Any]:
    """The KPIs as the definitions read, one loop at a time."""
    engine = engine_for(url)
    with engine.connect() as conn:
        days = sorted({_d(d) for d in conn.execute(select(account_status.c.as_of)).scalars()})
        closing = max(d for d in days if d <= end)
        opening = max((d for d in days if d < start), default=start)
        status = {
            (_d(r.as_of), r.account_id): r
            for r in conn.execute(
                select(account_status).where(account_status.c.as_of.in_([opening, closing]))
            )
        }
        pays = conn.execute(select(payments)).all()
        gone = {
            r.account_id: (r.kind, _d(r.effective_on))
            for r in conn.execute(
                select(account_disposals).where(account_disposals.c.status == "approved")
            )
        }
        costs = conn.execute(select(legal_costs)).all()
        made = conn.execute(select(contacts)).all()
        decided = conn.execute(select(promises)).all()
        all_cases = conn.execute(select(cases)).all()
        log = conn.execute(
            select(reassignments).order_by(reassignments.c.at, reassignments.c.log_id)
        ).all()
        names = dict(conn.execute(select(users.c.user_id, users.c.username)).all())
    engine.dispose()
    reversed_by = {p.reverses_payment_id: p for p in pays if p.reverses_payment_id}
    holder: dict[str, int] = {}
    for r in log:
        who = r.from_user_id if r.kind == "release" else r.to_user_id
        if who is not None:
            holder[r.customer_id] = who
    out: dict[str, Any] = defaultdict(lambda: defaultdict(int))
    for (day, account), row in status.items():
        if day != opening or row.overdue_amount <= 0:
            continue
        if account in gone and gone[account][1] <= opening:
            continue
        cash = 0
        for p in pays:
            if p.account_id != account or p.reverses_payment_id:
                continue
            if opening < _d(p.value_date) <= closing:
                rev = reversed_by.get(p.payment_id)
                if rev is None or _d(rev.value_date) > closing:
                    cash += p.amount
        recovered = max(0, min(cash, row.overdue_amount))
        after = status.get((closing, account))
        disposal = gone.get(account) if account in gone and gone[account][1] <= closing else None
        closing_overdue = 0 if disposal else (after.overdue_amount if after else 0)
        reduction = row.overdue_amount - closing_overdue
        cash_part = min(recovered, max(reduction, 0))
        rest = reduction - cash_part
        parts = {"cash": cash_part, "write_off": 0, "restructuring": 0, "transfer": 0, "other": 0}
        if disposal:
            parts["write_off" if disposal[0] == "write_off" else "transfer"] = rest
        elif after is not None and after.restructured and rest > 0:
            parts["restructuring"] = rest
        else:
            parts["other"] = rest
        for key in ("all", names.get(holder.get(row.customer_id, -1))):
            if key is None:
                continue
            line = out[key]
            line["pool_accounts"] += 1
            line["opening_overdue"] += row.overdue_amount
            line["cash_recovered"] += recovered
            for part, value in parts.items():
                line[f"reduction_{part}"] += value
    tz_day = {c.contact_id: c.at.astimezone(ZoneInfo("Asia/Shanghai")).date()
              for c in made}  # fmt: skip
    unit = {"phone": 150, "sms": 5, "letter": 800, "visit": 12000, "email": 0}
    for c in made:
        if opening < tz_day[c.contact_id] <= closing:
            for key in ("all", c.recorded_by):
                out[key]["contacts"] += 1
                out[key]["cost"] += unit[c.channel]
    for c in costs:
        if opening < _d(c.incurred_on) <= closing:
            out["all"]["cost"] += c.amount
    by_contact = {c.contact_id: c.recorded_by for c in made}
    for p in decided:
        if p.status in ("kept", "broken") and opening < _d(p.decided_on) <= closing:
            for key in ("all", by_contact[p.contact_id]):
                out[key][f"promises_{p.status}"] += 1
    for case in all_cases:
        if _d(case.opened_on) <= closing and (
            case.closed_on is None or _d(case.closed_on) > opening
        ):
            for key in ("all", names.get(holder.get(case.customer_id, -1))):
                if key is not None:
                    out[key]["cases"] += 1
    cure: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (day, account), row in status.items():
        if day == opening and row.dpd > 0:
            after = status.get((closing, account))
            cure[row.bucket][0] += row.outstanding_principal
            if (
                after is not None
                and after.dpd == 0
                and account not in {a for a, (_, eff) in gone.items() if opening < eff <= closing}
            ):
                cure[row.bucket][1] += row.outstanding_principal
    return {"lines": out, "cure": cure, "opening": opening, "closing": closing}


@pytest.mark.parametrize("backend", BACKENDS)
def test_kpis_equal_the_plain_recomputation(make_store: Any, backend: str, tmp_path: Path) -> None:
    url, _victim = _build(make_store, backend, tmp_path / "files")
    engine = engine_for(url)
    with engine.connect() as conn:
        kpis = collection_kpis(conn, START, AS_OF, POLICY)
    engine.dispose()
    ref = _reference(url, START, AS_OF)
    assert (kpis.opening, kpis.closing) == (ref["opening"], ref["closing"])
    rows = {(r["level"], r["key"]): r for r in kpis.table.iter_rows(named=True)}
    portfolio = rows[("portfolio", "all")]
    expected = ref["lines"]["all"]
    for column in ("pool_accounts", "opening_overdue", "cash_recovered", "reduction_cash",
                   "reduction_write_off", "reduction_restructuring", "reduction_transfer",
                   "reduction_other", "cost", "promises_kept", "promises_broken", "contacts",
                   "cases"):  # fmt: skip
        assert portfolio[column] == expected[column], column
    assert portfolio["reduction_write_off"] > 0, "the written-off loan counts as write-off"
    assert portfolio["cash_recovered"] > 0 and portfolio["contacts"] == 6
    assert portfolio["promises_kept"] + portfolio["promises_broken"] >= 1
    assert portfolio["recovery_rate"] == pytest.approx(
        expected["cash_recovered"] / expected["opening_overdue"]
    )
    reduction = sum(expected[f"reduction_{p}"] for p in
                    ("cash", "write_off", "restructuring", "transfer", "other"))  # fmt: skip
    assert portfolio["reduction"] == reduction
    assert portfolio["reduction_rate"] == pytest.approx(reduction / expected["opening_overdue"])
    assert portfolio["contacts_per_case"] == pytest.approx(expected["contacts"] / expected["cases"])
    collectors = {k: r for (level, k), r in rows.items() if level == "collector"}
    assert collectors, "allocation gave the cases to collectors"
    for name, row in collectors.items():
        for column in ("pool_accounts", "opening_overdue", "cash_recovered", "cases", "contacts"):
            assert row[column] == ref["lines"][name][column], (name, column)
    teams = {k: r for (level, k), r in rows.items() if level == "team"}
    assert sum(r["cases"] for r in teams.values()) == sum(r["cases"] for r in collectors.values())
    for row in kpis.cure_by_bucket.iter_rows(named=True):
        opening_principal, cured = ref["cure"].get(row["bucket"], [0, 0])
        assert (row["opening_principal"], row["cured_principal"]) == (opening_principal, cured)


def test_a_period_without_status_is_refused(make_store: Any, tmp_path: Path) -> None:
    url = _store(make_store, "sqlite", tmp_path / "files")
    engine = engine_for(url)
    with engine.connect() as conn, pytest.raises(KpiError, match="no stored status") as empty:
        collection_kpis(conn, START, AS_OF, POLICY)
    with engine.connect() as conn, pytest.raises(KpiError, match="before from") as reversed_:
        collection_kpis(conn, AS_OF, START, POLICY)
    engine.dispose()
    # Invalid requests (the API answers 422 by kind), naming the bound at fault.
    assert isinstance(empty.value, InvalidError) and empty.value.field == "from"
    assert isinstance(reversed_.value, InvalidError) and reversed_.value.field == "to"
