"""The pure rules of legal proposals, legal matters and disposals, without a database: the
stage transitions and close reasons, the evidence a stage still needs, the limitation period,
a failed contact's date on its jurisdiction's calendar, a disposal's amounts and effective date,
and which cured closures a disposal explains."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from postloan.collections.disposals import check_after_latest, check_amounts, closure_labels
from postloan.collections.errors import RecordConflict, RecordInvalid
from postloan.collections.legal_matters import (
    TRANSITIONS,
    check_close_reason,
    check_transition,
    evidence_sources,
    limitation_ends,
    missing_evidence,
)
from postloan.collections.legal_proposals import episode_contact_days
from postloan.policy import default_policy

POLICY = default_policy()

# --- legal matters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "to", "allowed"),
    [
        ("lawyer_letter", "lawsuit", True),
        ("lawyer_letter", "enforcement", False),  # enforcement needs a judgment: a lawsuit first
        ("lawyer_letter", "property_preservation", False),
        ("lawsuit", "enforcement", True),  # preservation is optional (CPL Art. 103)
        ("lawsuit", "property_preservation", True),
        ("property_preservation", "lawsuit", False),  # never back
        ("enforcement", "lawsuit", False),
        ("enforcement", "closed", True),
        ("lawyer_letter", "closed", True),  # the creditor may stop at any point
        ("lawsuit", "lawsuit", False),
    ],
)
def test_transitions_forward_with_the_skips_the_law_allows(
    stage: str, to: str, allowed: bool
) -> None:
    if allowed:
        check_transition(7, stage, to)
    else:
        with pytest.raises(RecordConflict) as refused:
            check_transition(7, stage, to)
        assert refused.value.field == "stage"
        assert f"cannot go from {stage} to {to}" in refused.value.message
        assert ", ".join(TRANSITIONS[stage]) in refused.value.message


@pytest.mark.parametrize(
    ("stage", "to", "reason", "allowed"),
    [
        ("lawsuit", "closed", "settled", True),
        ("lawyer_letter", "closed", "repaid", True),
        ("lawsuit", "closed", "enforced", False),  # only enforcement ends enforced
        ("property_preservation", "closed", "uncollectable", False),
        ("enforcement", "closed", "uncollectable", True),
        ("enforcement", "closed", "withdrawn", True),
        ("lawsuit", "closed", None, False),  # closing takes a reason
        ("lawsuit", "enforcement", None, True),
        ("lawsuit", "enforcement", "settled", False),  # a reason only when closing
    ],
)
def test_close_reasons(stage: str, to: str, reason: str | None, allowed: bool) -> None:
    if allowed:
        check_close_reason(3, stage, to, reason)
    else:
        with pytest.raises(RecordInvalid) as refused:
            check_close_reason(3, stage, to, reason)
        assert refused.value.field == "close_reason"


def test_missing_evidence_counts_documents_and_the_contact_log() -> None:
    rules = POLICY.legal
    assert rules.items_for("lawsuit") == [
        "loan_contract", "id_document", "statement_of_account", "demand_records", "lawyer_letter",
    ]  # fmt: skip
    on_file = {"loan_contract", "lawyer_letter"}
    # without contacts logged, demand records need a document
    assert missing_evidence(rules, "lawsuit", on_file, logged=False) == [
        "id_document", "statement_of_account", "demand_records",
    ]  # fmt: skip
    # the contact log provides demand records (contact_log_evidence), and only those
    assert missing_evidence(rules, "lawsuit", on_file, logged=True) == [
        "id_document", "statement_of_account",
    ]  # fmt: skip
    assert missing_evidence(rules, "lawyer_letter", set(), logged=True) == []
    assert missing_evidence(rules, "closed", set(), logged=False) == []


def test_evidence_sources_prefer_the_document() -> None:
    rows = evidence_sources(POLICY.legal, {"demand_records": 12, "asset_clues": 4}, logged=True)
    by = {(r["stage"], r["item"]): r for r in rows}
    # every stage's items, in stage order (demand_records once per stage that needs it)
    assert [r["stage"] for r in rows][:2] == ["lawyer_letter", "lawsuit"]
    assert len(rows) == sum(len(POLICY.legal.items_for(s)) for s in POLICY.legal.evidence)
    assert by["lawyer_letter", "demand_records"]["source"] == "document:12"
    assert by["property_preservation", "asset_clues"] == {
        "stage": "property_preservation", "item": "asset_clues", "present": True,
        "source": "document:4",
    }  # fmt: skip
    assert by["lawsuit", "loan_contract"]["present"] is False
    assert by["lawsuit", "loan_contract"]["source"] is None
    logged_only = evidence_sources(POLICY.legal, {}, logged=True)
    assert {r["item"]: r["source"] for r in logged_only}["demand_records"] == "contact_log"
    nothing = evidence_sources(POLICY.legal, {}, logged=False)
    assert not any(r["present"] for r in nothing)


def test_limitation_period_from_the_last_demand() -> None:
    assert limitation_ends(date(2026, 6, 25), 3) == date(2029, 6, 25)
    assert limitation_ends(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert limitation_ends(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert limitation_ends(None, 3) is None


# --- legal proposals: a failed contact's date --------------------------------------------------


def test_failed_contacts_dated_on_their_jurisdictions_calendar() -> None:
    at = datetime(2024, 3, 1, 17, 0, tzinfo=UTC)  # 3-2 01:00 in Shanghai, 3-1 12:00 in New York
    frame = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "case_opened_on": [date(2024, 3, 2), date(2024, 3, 2), date(2024, 2, 1),
                               date(2024, 2, 1)],
            "closed_on": [None, None, date(2024, 3, 2), date(2024, 3, 2)],
            "at": [at] * 4,
            "jurisdiction": ["UK", "US", "CN", "US"],
        },
        schema={"customer_id": pl.String, "case_opened_on": pl.Date, "closed_on": pl.Date,
                "at": pl.Datetime("us", "UTC"), "jurisdiction": pl.String},
    )  # fmt: skip
    days = episode_contact_days(frame, POLICY.contact)
    assert days.columns == ["customer_id", "case_opened_on", "on"]
    # C1: London's 3-1 is before the episode opened (Shanghai's 3-2 would be in);
    # C2: New York's 3-1 is before the episode opened; C3: Shanghai's 3-2 is the day it closed
    # (out); C4: New York's 3-1 is before it closed (in)
    assert days.rows() == [("C4", date(2024, 2, 1), date(2024, 3, 1))]
    in_shanghai = episode_contact_days(
        frame.with_columns(jurisdiction=pl.lit("CN")), POLICY.contact
    )
    assert in_shanghai.rows() == [("C1", date(2024, 3, 2), date(2024, 3, 2)),
                                  ("C2", date(2024, 3, 2), date(2024, 3, 2))]  # fmt: skip


# --- disposals --------------------------------------------------------------------------------


def test_disposal_amounts() -> None:
    account = {"outstanding_principal": 10_000, "overdue_interest": 300}
    none: dict[str, int | None] = {"principal": None, "interest": None}
    assert check_amounts("d", "write_off", **account, **none, fee=0, proceeds=None,
                         counterparty=None) == (10_000, 300)  # fmt: skip
    assert check_amounts("d", "asset_disposal", **account, principal=4_000, interest=0, fee=5,
                         proceeds=0, counterparty="AMC") == (4_000, 0)  # fmt: skip
    refusals = [
        ({"kind": "write_off", "principal": 10_001}, "principal"),  # above the outstanding
        ({"kind": "write_off", "principal": -1}, "principal"),
        ({"kind": "write_off", "interest": -5}, "interest"),
        ({"kind": "write_off", "principal": 0, "interest": 0}, "principal"),  # nothing to take
        ({"kind": "asset_disposal"}, "proceeds"),  # an asset disposal has its price
        ({"kind": "write_off", "proceeds": 100}, "proceeds"),  # a write-off has none
        ({"kind": "write_off", "counterparty": "AMC"}, "counterparty"),
    ]
    for change, field in refusals:
        args = {"principal": None, "interest": None, "fee": 0, "proceeds": None,
                "counterparty": None, **change}  # fmt: skip
        kind = str(args.pop("kind"))
        with pytest.raises(RecordInvalid) as refused:
            check_amounts("d", kind, **account, **args)  # type: ignore[arg-type]
        assert refused.value.field == field, change


def test_a_disposal_takes_effect_after_the_latest_stored_date() -> None:
    check_after_latest("d", date(2024, 3, 2), date(2024, 3, 1))
    check_after_latest("d", date(2024, 3, 2), None)  # nothing stored yet
    for effective in (date(2024, 3, 1), date(2024, 2, 1)):
        with pytest.raises(RecordInvalid) as refused:
            check_after_latest("d", effective, date(2024, 3, 1))
        assert refused.value.field == "effective_on"


def test_closure_labels_name_the_closures_a_disposal_explains() -> None:
    d1, d2, d3 = date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 5)
    closed = pl.DataFrame(
        [
            (1, d2, "A1"),  # written off effective d2: after d1, the stored date before d2
            (2, d2, "A2"),  # written off effective d1: the account left before; not why
            (3, d3, "A3"),  # one account written off, one disposed, both effective d3
            (3, d3, "A4"),
            (4, d1, "A5"),  # first day, effective d1
            (5, d2, "A6"),  # no disposal
            (6, d1, "A7"),  # first day, effective before it: only when nothing was stored then
        ],
        schema={"case_id": pl.Int64, "closed_on": pl.Date, "account_id": pl.String},
        orient="row",
    )
    gone = pl.DataFrame(
        [("A1", "write_off", d2), ("A2", "write_off", d1), ("A3", "write_off", d3),
         ("A4", "asset_disposal", d3), ("A5", "write_off", d1),
         ("A7", "write_off", date(2024, 2, 20))],
        schema={"account_id": pl.String, "kind": pl.String, "effective_on": pl.Date},
        orient="row",
    )  # fmt: skip
    stored_before = closure_labels(closed, gone, [d1, d2, d3], date(2024, 2, 28))
    assert stored_before.sort("case_id").rows() == [
        (1, "written_off"), (3, "disposed"), (4, "written_off"),
    ]  # fmt: skip
    first_ever = closure_labels(closed, gone, [d1, d2, d3], None)
    assert first_ever.sort("case_id").rows() == [
        (1, "written_off"), (3, "disposed"), (4, "written_off"), (6, "written_off"),
    ]  # fmt: skip
