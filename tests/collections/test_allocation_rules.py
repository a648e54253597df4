"""The allocation rules (ORG-1) without a database: the least-loaded collector, the load cap,
the stage's team, one collector per customer, release when the case closes, displacement of a
holder no longer eligible, and the refusals of a manual reassignment."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from postloan.collections.rules.allocation import (
    ACTIVE_COLLECTORS,
    COLLECTORS,
    HOLDINGS,
    NEW_CASES,
    OPEN_CASES,
    REGISTERED,
    Candidate,
    ReassignRefused,
    allocation,
    balance,
    check_reassignment,
    checked_reason,
    holdings_to_end,
    with_teams,
)

TEAMS = {"legal": "legal-team"}
D = date(2024, 3, 1)


def _new(*rows: tuple[str, str, str | None, int, date]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=NEW_CASES, orient="row")


def _collectors(*rows: tuple[int, str, str | None, int]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=COLLECTORS, orient="row")


def _pairs(frame: pl.DataFrame) -> dict[str, int]:
    return dict(frame.select("customer_id", "user_id").rows())


def test_the_least_loaded_collector_takes_each_case_ties_to_the_lowest_id() -> None:
    # A (id 1) holds 0, B (id 2) holds 2: A takes cases until it reaches 2, then the tie at 2
    # goes to the lower id (A), then B (2) is below A (3).
    new = _new(*[(f"c{k}", "B1", None, 0, D) for k in range(4)])
    got = _pairs(balance(new, _collectors((1, "B1", None, 0), (2, "B1", None, 2)), cap=10))
    assert got == {"c0": 1, "c1": 1, "c2": 1, "c3": 2}


def test_higher_priority_then_older_cases_are_served_first() -> None:
    # One slot left (cap 1): the priority-3 case gets it, whatever its id or age.
    new = _new(("a", "B1", None, 1, date(2024, 1, 1)), ("z", "B1", None, 3, date(2024, 2, 1)))
    assert _pairs(balance(new, _collectors((7, "B1", None, 0)), cap=1)) == {"z": 7}
    # Same priority: the older case first.
    new = _new(("a", "B1", None, 1, date(2024, 2, 1)), ("z", "B1", None, 1, date(2024, 1, 1)))
    assert _pairs(balance(new, _collectors((7, "B1", None, 0)), cap=1)) == {"z": 7}


def test_a_collector_at_the_cap_gets_nothing() -> None:
    new = _new(("a", "B1", None, 0, D), ("b", "B1", None, 0, D))
    got = balance(new, _collectors((1, "B1", None, 5), (2, "B1", None, 4)), cap=5)
    assert _pairs(got) == {"a": 2}  # one slot (level 4) below the cap of 5


def test_cases_stay_in_their_branch_and_team() -> None:
    new = _new(("a", "B1", "legal-team", 0, D), ("b", "B2", None, 0, D), ("c", "B1", None, 0, D))
    collectors = _collectors((1, "B1", None, 0), (2, "B1", "legal-team", 3), (3, "B3", None, 0))
    # a needs the legal team (user 2, though more loaded); b has no collector in B2; c: any
    # collector of B1 — user 1 (0) before user 2 (3 + the legal case = 4).
    assert _pairs(balance(new, collectors, cap=10)) == {"a": 2, "c": 1}


def test_no_new_cases_gives_an_empty_frame() -> None:
    got = balance(_new(), _collectors((1, "B1", None, 0)), cap=3)
    assert got.height == 0 and got.columns == ["customer_id", "user_id"]


def _open(*rows: tuple[str, str, str, int, date]) -> pl.DataFrame:
    return with_teams(pl.DataFrame(list(rows), schema=OPEN_CASES, orient="row"), TEAMS)


def _registered(*rows: tuple[str, int, str, bool, str | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=REGISTERED, orient="row")


def test_stage_team_comes_from_the_policy_teams() -> None:
    frame = _open(("a", "B1", "legal", 0, D), ("b", "B1", "M1", 0, D))
    assert frame["team"].to_list() == ["legal-team", None]


def test_a_closed_case_releases_the_customer_and_ineligible_holders_are_displaced() -> None:
    open_cases = _open(
        ("keep", "B1", "M1", 0, D), ("gone_inactive", "B1", "M1", 0, D),
        ("moved_branch", "B1", "M1", 0, D), ("legal", "B1", "legal", 0, D),
        ("role", "B1", "M1", 0, D),
    )  # fmt: skip
    registered = _registered(
        ("keep", 1, "collector", True, "B1", None),
        ("closed", 1, "collector", True, "B1", None),  # no open case any more
        ("gone_inactive", 2, "collector", False, "B1", None),
        ("moved_branch", 3, "collector", True, "B2", None),
        ("legal", 1, "collector", True, "B1", None),  # not of the legal team
        ("role", 4, "supervisor", True, "B1", None),
    )
    ended = holdings_to_end(open_cases, registered, TEAMS)
    assert ended.released["customer_id"].to_list() == ["closed"]
    assert ended.release_log.to_dicts() == [
        {"customer_id": "closed", "kind": "release", "from_user_id": 1, "to_user_id": None,
         "reason": "no open case"}
    ]  # fmt: skip
    why = dict(ended.displaced.select("customer_id", "why").rows())
    assert why == {
        "gone_inactive": "holder is inactive",
        "moved_branch": "holder is not of the customer's branch",
        "legal": "stage legal is worked by team legal-team",
        "role": "holder is no longer a collector",
    }


def test_allocation_logs_new_cases_reallocations_and_releases() -> None:
    open_cases = _open(
        ("held", "B1", "M1", 1, D), ("new", "B1", "M1", 2, D), ("displaced", "B1", "M1", 0, D),
        ("nobody", "B1", "legal", 0, D), ("stale", "B1", "M1", 0, D),
    )  # fmt: skip
    registered = _registered(
        ("held", 1, "collector", True, "B1", None),
        ("displaced", 3, "collector", True, "B2", None),
        ("nobody", 1, "collector", True, "B1", None),  # the legal stage needs the legal team
    )
    ended = holdings_to_end(open_cases, registered, TEAMS)
    # After the ended holdings went: user 1 holds "held"; inactive user 9 still holds "stale".
    holdings = pl.DataFrame(
        [("held", 1, True, "B1", None), ("stale", 9, False, "B1", None)],
        schema=HOLDINGS, orient="row",
    )  # fmt: skip
    collectors = pl.DataFrame(
        [(1, "B1", None), (2, "B1", None)], schema=ACTIVE_COLLECTORS, orient="row"
    )
    plan = allocation(open_cases, registered, ended, holdings, collectors, cap=10)
    # Waiting: new (priority 2), displaced, stale (priority 0; by opened_on then id) and nobody
    # (no legal collector). User 2 (load 0) takes new; then 1 (load 1) vs 2 (1): user 1 takes
    # displaced; 2 (1) takes stale.
    assert _pairs(plan.given) == {"displaced": 1, "new": 2, "stale": 2}
    assert plan.waiting == 4
    assert _pairs(plan.stale) == {"stale": 9}
    assert plan.orphaned.height == 0
    assert plan.log.to_dicts() == [
        {"customer_id": "displaced", "kind": "reallocate", "from_user_id": 3, "to_user_id": 1,
         "reason": "holder is not of the customer's branch"},
        {"customer_id": "new", "kind": "allocate", "from_user_id": None, "to_user_id": 2,
         "reason": "new case"},
        {"customer_id": "nobody", "kind": "release", "from_user_id": 1, "to_user_id": None,
         "reason": "stage legal is worked by team legal-team"},
        {"customer_id": "stale", "kind": "reallocate", "from_user_id": 9, "to_user_id": 2,
         "reason": "holder is inactive"},
    ]  # fmt: skip


def test_a_registration_whose_assignment_went_elsewhere_is_orphaned() -> None:
    open_cases = _open(("a", "B1", "M1", 0, D))
    registered = _registered(("a", 1, "collector", True, "B1", None))
    ended = holdings_to_end(open_cases, registered, TEAMS)
    holdings = pl.DataFrame([("a", 2, True, "B1", None)], schema=HOLDINGS, orient="row")
    collectors = pl.DataFrame([(1, "B1", None), (2, "B1", None)], schema=ACTIVE_COLLECTORS,
                              orient="row")  # fmt: skip
    plan = allocation(open_cases, registered, ended, holdings, collectors, cap=10)
    assert plan.orphaned["customer_id"].to_list() == ["a"]
    assert plan.given.height == 0 and plan.log.height == 0  # user 2 already holds "a"


def _check(target: Candidate | None, *, stage: str | None = "M1", previous: int | None = None
           ) -> None:  # fmt: skip
    check_reassignment("c1", "B1", stage, "bob", target, previous, TEAMS)


def test_reassignment_refusals_name_their_field() -> None:
    ok = Candidate(5, "collector", True, "B1", None)
    _check(ok)  # passes
    cases = [
        (dict(target=ok, stage=None), "conflict", "customer_id"),
        (dict(target=None), "invalid", "to"),
        (dict(target=Candidate(5, "supervisor", True, "B1", None)), "invalid", "to"),
        (dict(target=Candidate(5, "collector", False, "B1", None)), "invalid", "to"),
        (dict(target=Candidate(5, "collector", True, "B2", None)), "invalid", "to"),
        (dict(target=ok, stage="legal"), "invalid", "to"),
        (dict(target=ok, previous=5), "conflict", "to"),
    ]
    for kwargs, kind, field in cases:
        with pytest.raises(ReassignRefused) as refused:
            _check(**kwargs)  # type: ignore[arg-type]
        assert (refused.value.kind, refused.value.field) == (kind, field), kwargs
    _check(Candidate(5, "collector", True, "B1", "legal-team"), stage="legal")


def test_a_reason_must_have_the_minimum_length_once_stripped() -> None:
    assert checked_reason("  moved desk  ", 10) == "moved desk"
    with pytest.raises(ReassignRefused) as refused:
        checked_reason("   short   ", 10)
    assert refused.value.field == "reason"
