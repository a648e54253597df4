"""A complaint through its clock on a real store (SQLite and PostgreSQL): intake coded and
routed, the recusal refusal, complex, an extension refused without notice then granted by a
senior, the decision, root cause and fix, events and audit; the breach report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, true

from postloan.access.tables import audit_log
from postloan.errors import ConflictError, InvalidError, RefusedError
from postloan.policy import default_policy
from postloan.relationship import complaints as svc
from postloan.relationship.report import complaint_report
from postloan.relationship.tables import complaints
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.relationship.conftest import NOW

POLICY = default_policy()
R = date(2026, 6, 1)


def _customer(conn) -> str:  # type: ignore[no-untyped-def]
    return str(conn.execute(select(customers.c.customer_id).limit(1)).scalar_one())


def _take_in(conn, customer_id: str, named: list[str], on: date = R) -> int:  # type: ignore[no-untyped-def]
    return svc.receive(
        conn,
        POLICY,
        customer_id=customer_id,
        received_on=on,
        channel="phone",
        business_type="collection",
        reason="collection_conduct",
        summary="催收员在晚上十点后来电",
        complained_about=named,
        account_id=None,
        actor="cs1",
        today=date(2026, 7, 1),
        now=NOW,
    )


def test_a_complaint_through_its_clock(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        cid = _take_in(conn, _customer(conn), ["cs2"])
        row = svc.get(conn, cid)
        assert row.department == "collections"  # routed by business type
        with pytest.raises(RefusedError) as refused:
            svc.assign(conn, cid, "cs2", actor="cs1", today=R, now=NOW)
        assert refused.value.code == "recusal" and "cs2" in refused.value.message
        with pytest.raises(InvalidError):  # not a complaint handler
            svc.assign(conn, cid, "risk", actor="cs1", today=R, now=NOW)
        svc.assign(conn, cid, "cs1", actor="cs1", today=R, now=NOW)
        with pytest.raises(RefusedError):  # the person complained about does not decide
            svc.decide(
                conn,
                cid,
                decided_on=R,
                outcome="upheld",
                decision="x",
                actor="cs2",
                today=R,
                now=NOW,
            )
        svc.declare_complex(
            conn, POLICY, cid, "需调取录音核实", actor="cs1", today=R + timedelta(days=10), now=NOW
        )
        day = R + timedelta(days=28)
        with pytest.raises(RefusedError) as no_notice:
            svc.extend(
                conn,
                POLICY,
                cid,
                notice_on=None,
                approver="senior",
                approver_role="manager",
                today=day,
                now=NOW,
            )
        assert no_notice.value.code == "no_notice"
        with pytest.raises(RefusedError) as not_senior:
            svc.extend(
                conn,
                POLICY,
                cid,
                notice_on=day,
                approver="cs1",
                approver_role="customer_service",
                today=day,
                now=NOW,
            )
        assert not_senior.value.code == "not_senior" and "their own" in not_senior.value.message
        svc.extend(
            conn,
            POLICY,
            cid,
            notice_on=day,
            approver="senior",
            approver_role="manager",
            today=day,
            now=NOW,
        )
        clock = svc.clock_of(svc.get(conn, cid), POLICY, R + timedelta(days=55))
        assert (clock.limit_days, clock.deadline, clock.status) == (60, date(2026, 7, 31), "open")
        with pytest.raises(ConflictError):  # root cause after the decision
            svc.trace(conn, cid, root_cause="a", fix="b", actor="cs1", today=day, now=NOW)
        svc.decide(
            conn,
            cid,
            decided_on=R + timedelta(days=59),
            outcome="upheld",
            decision="道歉并规范外呼时间",
            actor="cs1",
            today=R + timedelta(days=59),
            now=NOW,
        )
        svc.trace(
            conn,
            cid,
            root_cause="外呼系统未按时区限制",
            fix="外呼系统 22:00 后锁定",
            actor="cs1",
            today=R + timedelta(days=60),
            now=NOW,
        )
        kinds = [e.kind for e in svc.events(conn, cid)]
        assert kinds == ["received", "assigned", "complex", "extended", "decided", "traced"]
        audited = conn.execute(
            select(audit_log.c.action).where(
                audit_log.c.target_type == "complaint", audit_log.c.target_id == str(cid)
            )
        ).scalars()
        assert list(audited) == [f"complaint.{k}" for k in kinds]
        final = svc.clock_of(svc.get(conn, cid), POLICY, date(2026, 9, 1))
        assert final.status == "decided"
    engine.dispose()


def test_the_breach_report(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        customer = _customer(conn)
        late = _take_in(conn, customer, [], on=date(2026, 5, 1))  # undecided: breached by 6-30
        in_time = _take_in(conn, customer, [], on=date(2026, 6, 20))
        svc.decide(
            conn,
            in_time,
            decided_on=date(2026, 6, 25),
            outcome="not_upheld",
            decision="已解释",
            actor="cs1",
            today=date(2026, 6, 30),
            now=NOW,
        )
        with pytest.raises(InvalidError):  # decided before it was received
            svc.decide(
                conn,
                late,
                decided_on=date(2026, 4, 1),
                outcome="upheld",
                decision="x",
                actor="cs1",
                today=date(2026, 6, 30),
                now=NOW,
            )
        got = complaint_report(
            conn, POLICY, date(2026, 4, 1), date(2026, 6, 30), date(2026, 6, 30), true()
        )
        assert got["total"] == 2 and got["by_status"] == {"breached": 1, "decided": 1}
        assert [b["complaint_id"] for b in got["breaches"]] == [late]
        assert got["breaches"][0]["deadline"] == "2026-05-16"
        assert got["by_department"] == {"collections": 2}
        # unknown codes are refused
        with pytest.raises(InvalidError):
            svc.receive(
                conn,
                POLICY,
                customer_id=customer,
                received_on=R,
                channel="pigeon",
                business_type="loans",
                reason="service",
                summary="x",
                complained_about=[],
                account_id=None,
                actor="cs1",
                today=R,
                now=NOW,
            )
        assert conn.execute(select(complaints.c.complaint_id)).all()
    engine.dispose()


def test_the_status_filter_in_sql_equals_each_clock(store: str) -> None:
    """`status_clause` (the API list's filter, in SQL) selects exactly the complaints whose
    clock (`clock_of`, the rules) is in that status, over complaints of every shape: plain,
    complex, extended with and without the notice, decided on the limit, a day late, or not."""
    from itertools import product

    as_of = date(2026, 6, 30)
    engine = engine_for(store)
    with engine.begin() as conn:
        customer = conn.execute(select(customers.c.customer_id).limit(1)).scalar_one()
        shapes = product(
            (0, 14, 15, 16, 29, 30, 31, 59, 60, 61, 90),  # received this many days before as_of
            ((False, None, None), (True, None, None), (True, "senior", None),
             (True, "senior", date(2026, 1, 1))),  # complex, approved by, notice
            (None, 15, 16, 30, 31, 60, 61),  # decided this many days after receipt
        )  # fmt: skip
        rows = []
        for back, (complex_, approver, notice), decided_after in shapes:
            received = as_of - timedelta(days=back)
            decided = None if decided_after is None else received + timedelta(decided_after)
            if decided is not None and decided > as_of:
                continue
            rows.append({
                "customer_id": customer, "received_on": received, "channel": "phone",
                "business_type": "loans", "reason": "service", "department": "credit",
                "summary": "s", "complained_about": "", "complex": complex_,
                "extension_approved_by": approver, "extension_notice_on": notice,
                "decided_on": decided, "created_by": "t", "created_at": NOW,
            })  # fmt: skip
        conn.execute(complaints.insert(), rows)
        stored = list(conn.execute(select(complaints)))
        seen = set()
        for status in ("open", "breached", "decided", "decided_late"):
            clause, exact = svc.status_clause(conn, POLICY, status, as_of)
            assert exact
            got = set(conn.execute(select(complaints.c.complaint_id).where(clause)).scalars())
            want = {
                r.complaint_id for r in stored if svc.clock_of(r, POLICY, as_of).status == status
            }
            assert got == want and want, status
            seen |= got
        assert seen == {r.complaint_id for r in stored}
        rel = POLICY.relationship
        clock = rel.complaints.clock.model_copy(update={"day_count": "working"})
        cfg = rel.complaints.model_copy(update={"clock": clock})
        working = POLICY.model_copy(
            update={"relationship": rel.model_copy(update={"complaints": cfg})}
        )
        assert svc.status_clause(conn, working, "open", as_of)[1] is False
    engine.dispose()
