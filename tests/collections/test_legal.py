"""Legal action (OD-8), write-off and asset disposal (OD-10), in a real store (SQLite, and
PostgreSQL when configured).

- proposals: exactly at DPD = legal_min_dpd (not one day less) and N failed contacts of the
  episode (not N-1; contacts dated on Beijing's calendar; an earlier episode's contacts do not
  count), on the first date both hold — checked against a plain loop; a re-run neither
  duplicates nor loses one and keeps what a person decided;
- matters: the stage order, the allowed skips, evidence gating naming the missing items,
  costs, every change audited;
- write-off: maker-checker; from its effective date the account leaves the cases (closed
  `written_off`, surviving a re-run) and the performing pool; KPI queries.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select

from postloan.access.tables import audit_log
from postloan.collections import contacts as contact_module
from postloan.collections.disposals import (
    decide_disposal,
    disposal_totals,
    disposals_in_period,
    disposed_accounts,
    propose_disposal,
    recoveries_after_disposal,
)
from postloan.collections.errors import EvidenceMissing, RecordConflict, RecordInvalid, SameUser
from postloan.collections.legal_matters import (
    add_cost,
    add_document,
    add_evidence,
    advance_matter,
    evidence_checklist,
    legal_costs_in_period,
    matter_detail,
)
from postloan.collections.legal_proposals import (
    PROPOSALS,
    accept_proposal,
    decline_proposal,
    legal_candidates,
)
from postloan.collections.legal_tables import legal_proposals, legal_stages
from postloan.collections.tables import cases, contacts
from postloan.policy import Policy, default_policy
from postloan.policy.legal import ContactOutcome
from postloan.reports.summary import summarise
from postloan.runs.steps import run_area_steps
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers, payments, runs
from tests.conftest import examples
from tests.store.conftest import BACKENDS

POLICY = default_policy()
BJ = ZoneInfo("Asia/Shanghai")
D = date(2026, 6, 30)
FIRST = D - timedelta(days=10)
DAYS = [FIRST + timedelta(days=i) for i in range(11)]
NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _dpd_from(start: int) -> dict[date, int]:
    return {day: start + i for i, day in enumerate(DAYS)}


# Customer → DPD by date (the one account "A-<customer>").
DPD: dict[str, dict[date, int]] = {
    "KA": _dpd_from(81),  # 91 on D
    "KA2": _dpd_from(84),  # 91 from D-3
    "KB": _dpd_from(80),  # 90 on D: never 91
    "KC": _dpd_from(81),
    "KG": _dpd_from(81),
    "KG2": _dpd_from(81),
    # an episode D-10..D-8, cured on D-7, a new one from D-6 (at 91+ at once: the cases and the
    # proposals only read the stored DPD)
    "KE": {day: (95 + i if i < 3 else 0 if i == 3 else 91 + i) for i, day in enumerate(DAYS)},
}


def _bj(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BJ)


def _days_before(n: int) -> date:
    return D - timedelta(days=n)


# Customer → contacts (Beijing time, outcome).
CONTACTS: dict[str, list[tuple[datetime, str]]] = {
    "KA": [(_bj(_days_before(n), 10), "no_answer") for n in (9, 8, 7, 6, 5)],
    "KA2": [(_bj(_days_before(n), 10), "busy") for n in (9, 8, 7, 6, 1)],
    "KB": [(_bj(_days_before(n), 10), "no_answer") for n in range(1, 7)],
    "KC": [(_bj(_days_before(n), 10), "not_home") for n in (9, 8, 7, 6)]
    + [
        (_bj(_days_before(n), 11), o)
        for n, o in ((5, "connected"), (4, "promise_to_pay"), (3, "dispute"))
    ],
    # 00:30 on the case's first day counts; 00:30 on D+1 (still D in UTC) does not
    "KG": [(_bj(FIRST, 0, 30), "wrong_number")]
    + [(_bj(_days_before(n), 10), "no_answer") for n in (8, 7, 6)]
    + [(_bj(D + timedelta(days=1), 0, 30), "no_answer")],
    # ...and 23:30 on D (15:30 UTC) does
    "KG2": [(_bj(FIRST, 0, 30), "wrong_number")]
    + [(_bj(_days_before(n), 10), "no_answer") for n in (8, 7, 6)]
    + [(_bj(D, 23, 30), "no_answer")],
    # three failures in the first episode, two in the second
    "KE": [(_bj(_days_before(n), 10), "refused_to_pay") for n in (10, 9, 8)]
    + [(_bj(_days_before(n), 10), "delivery_failed") for n in (5, 4)],
}
EXPECTED = {"KA": D, "KA2": D - timedelta(days=1), "KG2": D}


def _reference(policy: Policy, upto: date) -> dict[str, tuple[date, date, int, int]]:
    """customer → (episode start, proposed_on, max DPD, failed contacts): a plain loop."""
    min_dpd = policy.collections.legal_min_dpd
    need = policy.collections.legal_min_failed_contacts
    failed = set(policy.legal.failed_contact_outcomes)
    out = {}
    for customer, series in DPD.items():
        opened = None
        for day in DAYS:
            if day > upto:
                break
            dpd = series[day]
            if dpd == 0:
                opened = None
                continue
            if opened is None:
                opened = day
            count = sum(
                1
                for at, outcome in CONTACTS.get(customer, [])
                if outcome in failed and opened <= at.astimezone(BJ).date() <= day
            )
            if dpd >= min_dpd and count >= need and customer not in out:
                out[customer] = (opened, day, dpd, count)
    return out


def _version(conn: Connection, policy: Policy) -> str:
    from postloan.api.routes.policy import record_version

    record_version(conn, policy, NOW)
    return policy.version


def _store(make_store: Any, backend: str) -> tuple[Engine, int]:
    engine = engine_for(make_store(backend))
    with engine.begin() as conn:
        for cid in DPD:
            conn.execute(customers.insert().values(customer_id=cid, name=cid, branch_id="B1"))
        run_id = int(
            conn.execute(
                runs.insert().values(
                    kind="backfill", date_from=FIRST, date_to=D, status="succeeded",
                    policy_version=_version(conn, POLICY), started_at=NOW,
                )
            ).inserted_primary_key[0]
        )  # fmt: skip
        for day in DAYS:
            _status(conn, run_id, day, {cid: series[day] for cid, series in DPD.items()})
        conn.execute(
            contacts.insert(),
            [
                {"customer_id": cid, "at": at, "channel": "phone", "recorded_by": "wang",
                 "staff": json.dumps(["wang"]), "outcome": outcome, "jurisdiction": "CN"}
                for cid, made in CONTACTS.items()
                for at, outcome in made
            ],
        )  # fmt: skip
    return engine, run_id


def _status(conn: Connection, run_id: int, day: date, dpd: dict[str, int]) -> None:
    conn.execute(
        account_status.insert(),
        [
            {"as_of": day, "account_id": f"A-{cid}", "customer_id": cid, "account_type": "loan",
             "outstanding_principal": 1_000_000, "overdue_principal": 100_000 if d else 0,
             "overdue_interest": 5_000 if d else 0, "overdue_amount": 105_000 if d else 0,
             "dpd": d, "bucket": POLICY.bucket_for(d),
             "risk_class": POLICY.risk_class_for(d, "loan"), "consecutive_overdue_periods": 0,
             "cumulative_overdue_periods": 0, "run_id": run_id}
            for cid, d in dpd.items()
        ],
    )  # fmt: skip


def _run(engine: Engine, run_id: int, first: date, policy: Policy = POLICY) -> None:
    with engine.begin() as conn:
        run_area_steps(conn, first, policy, run_id)


def _proposals(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(legal_proposals)).all()
    out = {}
    for r in rows:
        assert r.customer_id not in out, "one proposal per customer in these scenarios"
        out[r.customer_id] = (
            str(r.case_opened_on)[:10], str(r.proposed_on)[:10], r.max_dpd, r.failed_contacts,
            r.overdue_amount, r.status,
        )  # fmt: skip
    return out


def _ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(legal_proposals.c.customer_id, legal_proposals.c.proposal_id))
        return {r[0]: int(r[1]) for r in rows}


def _expected(policy: Policy = POLICY, upto: date = D) -> dict[str, tuple[Any, ...]]:
    return {
        c: (str(o), str(p), dpd, n, 105_000, "proposed")
        for c, (o, p, dpd, n) in _reference(policy, upto).items()
    }


def test_failed_outcomes_are_contact_outcomes() -> None:
    assert set(get_args(ContactOutcome)) == set(contact_module.OUTCOMES)
    assert set(POLICY.legal.failed_contact_outcomes) <= set(contact_module.OUTCOMES)


@pytest.mark.parametrize("backend", BACKENDS)
def test_proposals_at_the_thresholds_exactly(make_store: Any, backend: str) -> None:
    engine, run_id = _store(make_store, backend)
    _run(engine, run_id, FIRST)
    got = _proposals(engine)
    assert {c: date.fromisoformat(p[1]) for c, p in got.items()} == EXPECTED
    assert got == _expected()
    assert got["KA"][2:4] == (91, 5)  # exactly 91 DPD, exactly 5 failed contacts
    # one day short of 91 and one contact short of 5 propose nothing
    assert "KB" not in got and "KC" not in got and "KG" not in got and "KE" not in got
    # the same dates run one by one propose the same
    engine2, run2 = _store(make_store, backend)
    for day in DAYS:
        _run(engine2, run2, day)
    assert _proposals(engine2) == got
    engine.dispose()
    engine2.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_rerun_keeps_decisions_and_never_duplicates(make_store: Any, backend: str) -> None:
    engine, run_id = _store(make_store, backend)
    _run(engine, run_id, FIRST)
    before, first_ids = _proposals(engine), _ids(engine)
    _run(engine, run_id, FIRST)  # a backfill again
    _run(engine, run_id, D)  # and the last date again
    assert _proposals(engine) == before
    assert _ids(engine) == first_ids, "a re-run keeps each proposal's id"
    with engine.begin() as conn:
        ids: dict[str, int] = dict(conn.execute(select(legal_proposals.c.customer_id,
                                       legal_proposals.c.proposal_id)).all())  # fmt: skip
        decline_proposal(conn, ids["KA2"], user="li", note="customer in hospital", now=NOW)
        accept_proposal(conn, ids["KA"], POLICY, user="li", on=D, now=NOW)
    stricter = POLICY.model_copy(
        update={"collections": POLICY.collections.model_copy(
            update={"legal_min_failed_contacts": 6})}
    )  # fmt: skip
    _run(engine, run_id, FIRST, stricter)
    after = _proposals(engine)
    # decided proposals stay as decided; the undecided one no longer qualifies and is gone
    assert after["KA"][-1] == "accepted" and after["KA2"][-1] == "declined"
    assert "KG2" not in after and _expected(stricter) == {}
    _run(engine, run_id, FIRST)
    assert _proposals(engine) == {**before, "KA": after["KA"], "KA2": after["KA2"]}
    engine.dispose()


PAIRS = st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 3)), max_size=20)


@settings(max_examples=examples(0.2))
@given(
    st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 1), st.integers(0, 9),
                       st.integers(85, 95)), max_size=25),
    st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 1),
                       st.integers(0, 9)), max_size=25),
    st.integers(0, 4),
)  # fmt: skip
def test_candidates_equal_a_plain_loop(
    qualifying_rows: list[tuple[str, int, int, int]],
    failed_rows: list[tuple[str, int, int]],
    need: int,
) -> None:
    start = date(2026, 1, 1)
    qualifying_rows = list({(c, e, d): (c, e, d, dpd) for c, e, d, dpd in qualifying_rows}.values())
    qualifying = pl.DataFrame(
        [(c, start + timedelta(days=e), start + timedelta(days=d), dpd, 7)
         for c, e, d, dpd in qualifying_rows],
        schema={"customer_id": pl.String, "case_opened_on": pl.Date, "as_of": pl.Date,
                "max_dpd": pl.Int64, "overdue_amount": pl.Int64},
        orient="row",
    ).filter(pl.col("max_dpd") >= 91)  # fmt: skip
    failed = pl.DataFrame(
        [(c, start + timedelta(days=e), start + timedelta(days=d)) for c, e, d in failed_rows],
        schema={"customer_id": pl.String, "case_opened_on": pl.Date, "on": pl.Date},
        orient="row",
    ).sort("customer_id", "case_opened_on", "on")
    got = legal_candidates(qualifying, failed, need)
    expected = []
    for episode in sorted({(r[0], r[1]) for r in qualifying.iter_rows()}):
        days = sorted(r for r in qualifying.iter_rows() if (r[0], r[1]) == episode)
        for row in days:
            count = sum(1 for f in failed.iter_rows() if (f[0], f[1]) == episode and f[2] <= row[2])
            if count >= need:
                expected.append((episode[0], episode[1], row[2], row[3], count, row[4]))
                break
    assert got.columns == list(PROPOSALS)
    assert [tuple(r) for r in got.iter_rows()] == expected


def _accepted_matter(make_store: Any, backend: str) -> tuple[Engine, int, int]:
    engine, run_id = _store(make_store, backend)
    _run(engine, run_id, FIRST)
    with engine.begin() as conn:
        pid = conn.execute(
            select(legal_proposals.c.proposal_id).where(legal_proposals.c.customer_id == "KA")
        ).scalar_one()
        matter_id = accept_proposal(conn, pid, POLICY, user="li", on=D, now=NOW, note="go")
    return engine, run_id, matter_id


def _audit_actions(conn: Connection) -> list[str]:
    return list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq)).scalars())


@pytest.mark.parametrize("backend", BACKENDS)
def test_stages_in_order_gated_by_evidence(make_store: Any, backend: str) -> None:
    engine, _run_id, matter_id = _accepted_matter(make_store, backend)
    later = D + timedelta(days=3)
    with engine.begin() as conn:
        # the contact log is the demand evidence (Civil Code Art. 195)
        checklist = {(c["stage"], c["item"]): c for c in evidence_checklist(conn, matter_id,
                                                                            POLICY)}  # fmt: skip
        assert checklist[("lawyer_letter", "demand_records")]["source"] == "contact_log"
        assert not checklist[("lawsuit", "loan_contract")]["present"]
        with pytest.raises(EvidenceMissing) as missing:
            advance_matter(conn, matter_id, "lawsuit", POLICY, user="li", on=later, now=NOW)
        assert missing.value.missing == [
            "loan_contract", "id_document", "statement_of_account", "lawyer_letter"
        ]  # fmt: skip
        assert "loan_contract, id_document, statement_of_account, lawyer_letter" in str(
            missing.value
        )
        with pytest.raises(RecordConflict, match="cannot go from lawyer_letter to enforcement"):
            advance_matter(conn, matter_id, "enforcement", POLICY, user="li", on=later, now=NOW)
        for item in ("loan_contract", "id_document", "statement_of_account"):
            add_evidence(conn, matter_id, item, POLICY, name=item, reference=f"/archive/{item}",
                         user="li", now=NOW)  # fmt: skip
        with pytest.raises(EvidenceMissing, match=r"evidence missing: lawyer_letter$"):
            advance_matter(conn, matter_id, "lawsuit", POLICY, user="li", on=later, now=NOW)
        with pytest.raises(RecordInvalid, match="not on the evidence checklist"):
            add_evidence(conn, matter_id, "horoscope", POLICY, name="x", reference="y",
                         user="li", now=NOW)  # fmt: skip
        # a document of the item's kind is the evidence, however it was added
        add_document(conn, matter_id, name="律师函", kind="lawyer_letter", reference="LL-1",
                     user="li", now=NOW, dated_on=D)  # fmt: skip
        with pytest.raises(RecordInvalid, match="before lawyer_letter began"):
            advance_matter(conn, matter_id, "lawsuit", POLICY, user="li",
                           on=D - timedelta(days=1), now=NOW)  # fmt: skip
        advance_matter(conn, matter_id, "lawsuit", POLICY, user="li", on=later, now=NOW,
                       reference="(2026)京0105民初123号")  # fmt: skip
        with pytest.raises(RecordConflict, match="cannot go from lawsuit to lawyer_letter"):
            advance_matter(conn, matter_id, "lawyer_letter", POLICY, user="li", on=later, now=NOW)
        with pytest.raises(EvidenceMissing, match="effective_judgment"):
            advance_matter(conn, matter_id, "enforcement", POLICY, user="li", on=later, now=NOW)
        add_evidence(conn, matter_id, "effective_judgment", POLICY, name="判决书",
                     reference="J-1", user="li", now=NOW)  # fmt: skip
        # preservation is optional: straight to enforcement
        advance_matter(conn, matter_id, "enforcement", POLICY, user="li", on=later, now=NOW)
        with pytest.raises(RecordInvalid, match="close_reason"):
            advance_matter(conn, matter_id, "closed", POLICY, user="li", on=later, now=NOW)
        advance_matter(conn, matter_id, "closed", POLICY, user="li", on=later, now=NOW,
                       close_reason="uncollectable")  # fmt: skip
        with pytest.raises(RecordConflict, match="closed on"):
            add_document(conn, matter_id, name="x", kind="y", reference="z", user="li", now=NOW)
        detail = matter_detail(conn, matter_id, POLICY)
        stages = [(s["stage"], str(s["entered_on"])[:10], str(s["left_on"])[:10])
                  for s in detail.stages]  # fmt: skip
        actions = _audit_actions(conn)
    assert stages == [("lawyer_letter", str(D), str(later)), ("lawsuit", str(later), str(later)),
                      ("enforcement", str(later), str(later))]  # fmt: skip
    assert detail.matter["status"] == "closed" and detail.matter["close_reason"] == "uncollectable"
    assert detail.stages[1]["reference"] == "(2026)京0105民初123号"
    assert all(c["present"] for c in detail.checklist if c["stage"] != "property_preservation")
    # last demand: the 5th failed contact (D-5); limitation: three years on (Art. 188/195)
    assert detail.last_demand_on == D - timedelta(days=5)
    assert detail.limitation_ends_on == date(2029, 6, 25)
    assert actions == ["legal.accept", *["legal.document"] * 4, "legal.advance",
                       "legal.document", "legal.advance", "legal.advance"]  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_close_needs_a_settlement_reason(make_store: Any, backend: str) -> None:
    engine, _run_id, matter_id = _accepted_matter(make_store, backend)
    with engine.begin() as conn:
        with pytest.raises(RecordInvalid, match="repaid, settled, withdrawn, not 'enforced'"):
            advance_matter(conn, matter_id, "closed", POLICY, user="li", on=D, now=NOW,
                           close_reason="enforced")  # fmt: skip
        # closing is never held up by evidence: the creditor may settle at any point
        advance_matter(conn, matter_id, "closed", POLICY, user="li", on=D, now=NOW,
                       close_reason="settled")  # fmt: skip
        stage = conn.execute(select(legal_stages.c.left_on)).scalar()
        # a decided proposal cannot be decided again
        pid = conn.execute(select(legal_proposals.c.proposal_id).where(
            legal_proposals.c.customer_id == "KA")).scalar_one()  # fmt: skip
        with pytest.raises(RecordConflict, match="already accepted by li"):
            decline_proposal(conn, pid, user="li", note="changed my mind", now=NOW)
    assert str(stage)[:10] == str(D)
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_costs_by_category_and_period(make_store: Any, backend: str) -> None:
    engine, _run_id, matter_id = _accepted_matter(make_store, backend)
    with engine.begin() as conn:
        add_cost(conn, matter_id, POLICY, category="lawyer_fee", amount=300_000,
                 incurred_on=D, user="li", now=NOW)  # fmt: skip
        add_cost(conn, matter_id, POLICY, category="court_fee", amount=12_345,
                 incurred_on=D + timedelta(days=40), user="li", now=NOW)  # fmt: skip
        for bad, field in (({"category": "party"}, "category"), ({"amount": 0}, "amount"),
                           ({"incurred_on": D - timedelta(days=1)}, "incurred_on")):  # fmt: skip
            args = {"category": "other", "amount": 1, "incurred_on": D, **bad}
            with pytest.raises(RecordInvalid) as err:
                add_cost(conn, matter_id, POLICY, user="li", now=NOW, **args)
            assert err.value.field == field and f"legal matter {matter_id}" in err.value.message
        july = legal_costs_in_period(conn, date(2026, 6, 1), date(2026, 7, 31))
        august = legal_costs_in_period(conn, date(2026, 8, 1), date(2026, 8, 31))
        detail = matter_detail(conn, matter_id, POLICY)
    assert july.select("category", "amount", "stage", "owner", "customer_id").rows() == [
        ("lawyer_fee", 300_000, "lawyer_letter", "li", "KA")
    ]
    assert august["amount"].to_list() == [12_345]
    assert detail.total_cost == 312_345
    engine.dispose()


def _summary_reference(
    rows: list[dict[str, Any]], gone: dict[str, date]
) -> tuple[int, int, float, float]:
    """(accounts, principal, DPD30+ ratio, written-off principal) — a plain loop."""
    kept = [
        r for r in rows if not (r["account_id"] in gone and gone[r["account_id"]] <= r["as_of"])
    ]
    out = sum(r["outstanding_principal"] for r in rows) - sum(
        r["outstanding_principal"] for r in kept
    )
    total = sum(r["outstanding_principal"] for r in kept)
    dpd30 = sum(r["outstanding_principal"] for r in kept if r["dpd"] >= 30)
    return len(kept), total, dpd30 / total if total else 0.0, out


@pytest.mark.parametrize("backend", BACKENDS)
def test_write_off_maker_checker_cases_and_pool(make_store: Any, backend: str) -> None:
    engine, run_id, matter_id = _accepted_matter(make_store, backend)
    effective = D + timedelta(days=1)
    with engine.begin() as conn:
        with pytest.raises(RecordInvalid, match=r"effective_on: must be after .*2026-06-30"):
            propose_disposal(conn, account_id="A-KA", kind="write_off", effective_on=D,
                             reason="uncollectable", user="li", now=NOW)  # fmt: skip
        with pytest.raises(RecordInvalid, match="principal: must be between 0 and"):
            propose_disposal(conn, account_id="A-KA", kind="write_off", effective_on=effective,
                             reason="x", user="li", now=NOW, principal=2_000_000)  # fmt: skip
        with pytest.raises(RecordInvalid, match="proceeds: only an asset disposal"):
            propose_disposal(conn, account_id="A-KA", kind="write_off", effective_on=effective,
                             reason="x", user="li", now=NOW, proceeds=5)  # fmt: skip
        wid = propose_disposal(conn, account_id="A-KA", kind="write_off", effective_on=effective,
                               reason="enforcement ended without assets", user="li", now=NOW,
                               matter_id=matter_id)  # fmt: skip
        did = propose_disposal(conn, account_id="A-KA2", kind="asset_disposal",
                               effective_on=effective, reason="sold to an AMC", user="li",
                               now=NOW, proceeds=200_000, counterparty="AMC")  # fmt: skip
        with pytest.raises(RecordConflict, match="already proposed"):
            propose_disposal(conn, account_id="A-KA", kind="write_off", effective_on=effective,
                             reason="again", user="li", now=NOW)  # fmt: skip
        with pytest.raises(SameUser, match="another user must decide"):
            decide_disposal(conn, wid, approve=True, user="li", now=NOW)
        decide_disposal(conn, wid, approve=True, user="zhao", now=NOW)
        decide_disposal(conn, did, approve=True, user="zhao", now=NOW)
        with pytest.raises(RecordConflict, match="already approved by zhao"):
            decide_disposal(conn, wid, approve=False, user="qian", now=NOW, note="no")
        # two more business dates: still 91+ DPD, still owed
        for n in (1, 2):
            _status(conn, run_id, D + timedelta(days=n),
                    {c: s[D] + n for c, s in DPD.items()})  # fmt: skip
    _run(engine, run_id, D + timedelta(days=1))
    _run(engine, run_id, D + timedelta(days=2))

    def closures() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return sorted(
                (r.customer_id, str(r.opened_on)[:10], r.status, str(r.closed_on)[:10],
                 r.close_reason)
                for r in conn.execute(select(cases).where(cases.c.customer_id.in_(["KA", "KA2"])))
            )  # fmt: skip

    closed = closures()
    assert closed == [
        ("KA", str(FIRST), "closed", str(effective), "written_off"),
        ("KA2", str(FIRST), "closed", str(effective), "disposed"),
    ], "closed on the effective date, and no new case for the still-overdue account"
    _run(engine, run_id, FIRST)  # a backfill over everything: the closure survives
    assert closures() == closed

    with engine.begin() as conn:
        conn.execute(payments.insert(), [
            {"payment_id": pid, "account_id": account, "value_date": day, "amount": amount,
             "reverses_payment_id": reverses}
            for pid, account, day, amount, reverses in (
                ("P1", "A-KA", D, 1_000, None), ("P2", "A-KA", effective, 7_000, None),
                ("P3", "A-KA2", effective, 500, None), ("R3", "A-KA2", effective, 500, "P3"),
                ("R1", "A-KA", effective, 1_000, "P1"),
            )
        ])  # fmt: skip
        recovered = recoveries_after_disposal(conn, date(2026, 7, 1), date(2026, 7, 31))
        period = disposals_in_period(conn, date(2026, 7, 1), date(2026, 7, 31))
        totals = disposal_totals(conn, date(2026, 7, 1), date(2026, 7, 31))
        june = disposals_in_period(conn, date(2026, 6, 1), date(2026, 6, 30))
        gone = disposed_accounts(conn, D + timedelta(days=2))
        status_rows = [
            dict(r._mapping)
            for r in conn.execute(select(account_status).where(account_status.c.as_of >= D))
        ]
        audited = _audit_actions(conn)
    # P1 predates the write-off, so neither it nor its reversal is a recovery
    assert recovered.select("payment_id", "amount").rows() == [
        ("P2", 7_000), ("P3", 500), ("R3", -500)
    ]  # fmt: skip
    assert period.select("account_id", "kind", "principal", "interest", "amount").rows() == [
        ("A-KA", "write_off", 1_000_000, 5_000, 1_005_000),
        ("A-KA2", "asset_disposal", 1_000_000, 5_000, 1_005_000),
    ]
    assert period["matter_id"].to_list() == [matter_id, None]
    assert totals.select("kind", "accounts", "amount", "proceeds").rows() == [
        ("write_off", 1, 1_005_000, 0), ("asset_disposal", 1, 1_005_000, 200_000)
    ]  # fmt: skip
    assert june.height == 0
    assert audited.count("writeoff.propose") == 2 and audited.count("writeoff.approve") == 2

    # the performing pool: out from the effective date, against a plain recomputation
    gone_on = {r["account_id"]: r["effective_on"] for r in gone.to_dicts()}
    for day in (D, effective, effective + timedelta(days=1)):
        rows = [
            {**r, "as_of": date.fromisoformat(str(r["as_of"])[:10])}
            for r in status_rows
            if str(r["as_of"])[:10] == str(day)
        ]
        frame = pl.DataFrame(
            [{k: r[k] for k in ("account_id", "as_of", "outstanding_principal",
                                "overdue_amount", "dpd", "bucket", "risk_class")}
             for r in rows]
        )  # fmt: skip
        summary = summarise(frame, POLICY, gone)
        accounts, principal, dpd30, out = _summary_reference(rows, gone_on)
        assert summary.accounts == accounts and summary.outstanding_principal == principal
        assert summary.dpd30_ratio == pytest.approx(dpd30)
        assert summary.written_off_principal == out
        assert summary.by_bucket["accounts"].sum() == accounts
        if day == D:
            assert out == 0 and accounts == len(DPD)
        else:
            assert out == 2_000_000 and accounts == len(DPD) - 2
            assert summary.written_off.rows() == [
                ("write_off", 1, 1_000_000, 105_000), ("asset_disposal", 1, 1_000_000, 105_000)
            ]  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_accept_refuses_a_cured_case_and_decline_needs_a_reason(
    make_store: Any, backend: str
) -> None:
    engine, run_id = _store(make_store, backend)
    _run(engine, run_id, FIRST)
    with engine.begin() as conn:
        ids: dict[str, int] = dict(conn.execute(select(legal_proposals.c.customer_id,
                                       legal_proposals.c.proposal_id)).all())  # fmt: skip
        with pytest.raises(RecordInvalid, match="note: a reason is required"):
            decline_proposal(conn, ids["KA2"], user="li", note=" ", now=NOW)
        _status(conn, run_id, D + timedelta(days=1),
                {c: 0 if c == "KA2" else s[D] + 1 for c, s in DPD.items()})  # fmt: skip
    _run(engine, run_id, D + timedelta(days=1))
    with engine.begin() as conn:
        with pytest.raises(RecordConflict, match=r"the case closed on 2026-07-01 \(cured\)"):
            accept_proposal(conn, ids["KA2"], POLICY, user="li", on=D, now=NOW)
        who = sorted(conn.execute(select(legal_proposals.c.customer_id)).scalars())
    # the cured customer's pending proposal is kept, once; on D+1 KB reached 91 DPD and KG's
    # fifth failed contact (00:30 on D+1) counts
    assert who == ["KA", "KA2", "KB", "KG", "KG2"]
    engine.dispose()


def _without(data: dict[str, Any], key: str) -> None:
    del data["legal"]["evidence"][key]


@pytest.mark.parametrize(
    ("change", "parameter", "reason"),
    [
        (lambda d: d["legal"].update(failed_contact_outcomes=[]),
         "legal.failed_contact_outcomes", "at least one outcome is needed"),
        (lambda d: d["legal"].update(failed_contact_outcomes=["shouting"]),
         "legal.failed_contact_outcomes[0]", "must be 'connected'"),
        (lambda d: _without(d, "lawsuit"), "legal.evidence.lawsuit", "missing"),
        (lambda d: d["legal"].update(cost_categories=["court_fee", "court_fee"]),
         "legal.cost_categories", "listed twice: court_fee"),
        (lambda d: d["legal"]["evidence"].update(lawsuit=["Loan Contract"]),
         "legal.evidence.lawsuit[0]", "lower-case letters"),
        (lambda d: d["legal"].update(limitation_years=0),
         "legal.limitation_years", "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_legal_policy_names_the_parameter(change: Any, parameter: str, reason: str) -> None:
    from postloan.policy import PolicyError
    from postloan.policy.loader import policy_from_dict

    data = POLICY.model_dump(mode="json")
    change(data)
    with pytest.raises(PolicyError) as err:
        policy_from_dict(data)
    problems = {p.parameter: p.reason for p in err.value.problems}
    assert parameter in problems, problems
    assert reason in problems[parameter]
