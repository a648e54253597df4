"""The compliance report: cases below the weekly floor, refused contacts, and recorded contacts
that break a cap (only possible when they came in around `record_contact`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from postloan.api.routes.policy import record_version
from postloan.collections.compliance import compliance_report
from postloan.collections.contacts import Contact, ContactRefused, record_contact
from postloan.collections.tables import cases, contacts
from postloan.policy import default_policy
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers, runs

POLICY = default_policy()
D = date(2026, 3, 13)  # a Friday
BJ = ZoneInfo("Asia/Shanghai")


def _status(customer: str, dpd: int) -> dict[str, Any]:
    return {
        "as_of": D, "account_id": f"L{customer}", "customer_id": customer,
        "account_type": "loan", "outstanding_principal": 1, "overdue_principal": 1,
        "overdue_interest": 0, "overdue_amount": 1, "dpd": dpd, "bucket": POLICY.bucket_for(dpd),
        "risk_class": "normal", "consecutive_overdue_periods": 1,
        "cumulative_overdue_periods": 1, "last_payment_date": None,
    }  # fmt: skip


def test_report(make_store: Any, tmp_path: Path) -> None:
    url = make_store("sqlite")
    engine = engine_for(url)
    with engine.begin() as conn:
        record_version(conn, POLICY, datetime.now(UTC))
        run_id = conn.execute(
            runs.insert().values(
                kind="daily", date_from=D, date_to=D, status="succeeded",
                policy_version=POLICY.version, started_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]  # fmt: skip
        # K40 (31-60: floor 2) gets two contacts, K70 (61-90: floor 3) only one
        for customer, dpd in (("K40", 40), ("K70", 70)):
            conn.execute(customers.insert().values(customer_id=customer, name=customer,
                                                   id_type="prc_id"))  # fmt: skip
            conn.execute(account_status.insert().values(**_status(customer, dpd), run_id=run_id))
            conn.execute(
                cases.insert().values(
                    customer_id=customer, status="open", stage="negotiation", opened_on=D,
                    opened_max_dpd=dpd, opened_overdue_amount=1, opened_run_id=run_id,
                )
            )  # fmt: skip
        for when in (datetime(2026, 3, 9, 10, tzinfo=BJ), datetime(2026, 3, 13, 23, 0, tzinfo=BJ)):
            kind = "sent" if when.hour == 23 else "connected"
            channel = "letter" if when.hour == 23 else "phone"
            record_contact(conn, Contact("K40", when, channel, ("wang",), kind), POLICY,
                           recorded_by="wang")  # fmt: skip
        record_contact(conn, Contact("K70", datetime(2026, 3, 10, 10, tzinfo=BJ), "phone",
                                     ("li",), "no_answer"), POLICY, recorded_by="li")  # fmt: skip
        # a refused call (quiet hours) in the week, and one before it (not in this report)
        for when in (datetime(2026, 3, 11, 23, 30, tzinfo=BJ), datetime(2026, 3, 1, 23, tzinfo=BJ)):
            with pytest.raises(ContactRefused):
                record_contact(conn, Contact("K70", when, "phone", ("li",), "no_answer"), POLICY,
                               recorded_by="li")  # fmt: skip
        # a contact written around record_contact: a 2 a.m. call
        conn.execute(
            contacts.insert().values(
                customer_id="K70", at=datetime(2026, 3, 12, 2, 0, tzinfo=BJ).astimezone(UTC),
                channel="phone",
                recorded_by="import", staff=json.dumps(["x"]), outcome="connected",
                jurisdiction="CN",
            )
        )  # fmt: skip
    with engine.connect() as conn:
        report = compliance_report(conn, D, POLICY)
        next_week = compliance_report(conn, D + timedelta(days=7), POLICY)
    engine.dispose()
    # K70: 1 recorded + 1 imported contact = 2 < 3; K40: 2 >= 2
    assert [(b["customer_id"], b["floor"], b["contacts"]) for b in report.below_floor] == [
        ("K70", 3, 2)
    ]
    assert [(r["customer_id"], r["rules"]) for r in report.refused] == [("K70", ["quiet_hours"])]
    assert [(a["customer_id"], a["rules"]) for a in report.above_cap] == [("K70", ["quiet_hours"])]
    # a week later (no status stored for that date) nothing is judged, nothing refused
    assert next_week.below_floor == [] and next_week.refused == [] and next_week.above_cap == []
