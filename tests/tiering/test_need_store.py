"""ABC's need stored by the daily step (`tiering.assign`), on a small hand-built store (SQLite
and PostgreSQL): contract files written here by hand, imported and run for two dates. The
stored `need` and `need_signals` equal the pure rule's plain recomputation
(`test_need.plain`, dates by `calendar`) over the store's own rows — account status, loans,
card limits — and the levels worked out by hand for each customer and date."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from postloan.contract.spec import FILES
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store import schema
from postloan.store.db import engine_for
from postloan.tiering.tables import tier_assignments
from tests.tiering.conftest import filled
from tests.tiering.test_need import plain

D1, D2 = date(2026, 5, 31), date(2026, 6, 30)
POLICY = default_policy()  # renewal within 3 months, credit line from 80 % of the limit


def _write(folder: Path, kind: str, rows: list[dict[str, str]]) -> None:
    names = [c.name for c in FILES[kind]]
    with (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=names)
        writer.writeheader()
        writer.writerows({n: r.get(n, "") for n in names} for r in rows)


def _loan(loan: str, customer: str, term: int, disbursed: str, first_due: str) -> dict[str, str]:
    return {"loan_id": loan, "customer_id": customer, "principal": "12000.00",
            "annual_rate": "0.0600", "term_months": str(term),
            "repayment_method": "equal_installment", "disbursement_date": disbursed,
            "first_due_date": first_due, "purpose": "consumer", "branch_id": "B1"}  # fmt: skip


def _statement(card: str, day: str, due: str, balance: str) -> dict[str, str]:
    return {"card_id": card, "statement_date": day, "due_date": due,
            "statement_balance": balance, "minimum_due": "100.00",
            "purchases": balance}  # fmt: skip


def hand_built(folder: Path) -> Path:
    """Five customers; what each shows on D1 (May 31) and D2 (June 30) is in `WANTED`."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, "customers", [
        {"customer_id": c, "name": f"客户{c}", "monthly_income": "20000.00",
         "total_liabilities": "0.00", "branch_id": "B1"} for c in ("CA", "CB", "CC", "CD", "CE")
    ])  # fmt: skip
    _write(folder, "loans", [
        # CA: last instalment 2026-07-31 — within 3 months of both dates
        _loan("LA", "CA", 12, "2025-07-31", "2025-08-31"),
        # CB: no first due date: 2025-09-15 (a month on), the last 2026-09-15 — beyond
        # May 31 + 3 months (Aug 31), within June 30 + 3 months (Sep 30)
        _loan("LB", "CB", 13, "2025-08-15", ""),
        _loan("LC", "CC", 36, "2025-06-30", "2025-07-31"),  # ends 2028: never
        _loan("LD", "CD", 36, "2025-06-30", "2025-07-31"),
        # CE: 11 instalments from 2025-07-31, the last on May 31 itself (D1: within); before
        # June 30 (D2: not)
        _loan("LE", "CE", 11, "2025-06-30", "2025-07-31"),
    ])  # fmt: skip
    _write(folder, "cards", [
        {"card_id": k, "customer_id": c, "credit_limit": limit, "open_date": "2025-01-01"}
        for k, c, limit in (("KA", "CA", "10000.00"), ("KC", "CC", "10000.00"),
                            ("KD", "CD", "5000.00"))
    ])  # fmt: skip
    _write(folder, "card_statements", [
        _statement("KA", "2026-05-20", "2026-06-09", "9000.00"),  # 90 %: short of credit
        _statement("KA", "2026-06-20", "2026-07-10", "9500.00"),
        _statement("KC", "2026-05-20", "2026-06-09", "7999.99"),  # just below 80 %
        _statement("KC", "2026-06-20", "2026-07-10", "8000.00"),  # exactly 80 %
        _statement("KD", "2026-05-20", "2026-06-09", "1000.00"),
        _statement("KD", "2026-06-20", "2026-07-10", "1000.00"),
    ])  # fmt: skip
    return folder


WANTED = {
    (D1, "CA"): ("renewal,credit_line", "high"), (D2, "CA"): ("renewal,credit_line", "high"),
    (D1, "CB"): ("", "low"), (D2, "CB"): ("renewal", "medium"),
    (D1, "CC"): ("", "low"), (D2, "CC"): ("credit_line", "medium"),
    (D1, "CD"): ("", "low"), (D2, "CD"): ("", "low"),
    (D1, "CE"): ("renewal", "medium"), (D2, "CE"): ("", "low"),
}  # fmt: skip


def test_the_stored_need_is_the_rule_on_the_stored_inputs(
    make_store: Any, backend: str, tmp_path: Path
) -> None:
    url = filled(make_store, backend, hand_built(tmp_path / "files"))
    run_dates(url, [D1, D2], POLICY)
    engine = engine_for(url)
    s, lo, ca, t = (schema.account_status.c, schema.loans.c, schema.cards.c,
                    tier_assignments.c)  # fmt: skip
    with engine.connect() as conn:
        status = [r._asdict() for r in conn.execute(
            select(s.as_of, s.account_id, s.customer_id, s.account_type,
                   s.outstanding_principal))]  # fmt: skip
        loans = {r.loan_id: r._asdict() for r in conn.execute(
            select(lo.loan_id, lo.first_due_date, lo.disbursement_date,
                   lo.term_months))}  # fmt: skip
        limits = {r.card_id: r.credit_limit for r in conn.execute(
            select(ca.card_id, ca.credit_limit))}  # fmt: skip
        stored = {(r.as_of, r.customer_id): (r.need_signals, r.need) for r in conn.execute(
            select(t.as_of, t.customer_id, t.need_signals, t.need))}  # fmt: skip
    engine.dispose()
    status = [{**r, "as_of": _day(r["as_of"])} for r in status]
    loans = {k: {**v, "first_due_date": _day(v["first_due_date"]),
                 "disbursement_date": _day(v["disbursement_date"])}
             for k, v in loans.items()}  # fmt: skip
    stored = {(_day(d), c): v for (d, c), v in stored.items()}
    a = POLICY.tiering.abc
    want = plain(status, loans, limits, a.need_renewal_within_months, a.need_utilisation_percent)
    assert stored == want
    assert stored == WANTED  # and what the hand-built files were made to show


def _day(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value
