"""Every broken policy is rejected with the parameter named and the reason given."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from postloan.policy import (
    PolicyError,
    PolicyFileError,
    Problem,
    load_policy,
    parse_policy,
    policy_from_dict,
)

Data = dict[str, Any]


def rejected(data: Data) -> dict[str, str]:
    """The problems of an invalid policy as {parameter: reason}."""
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    assert info.value.problems, "a PolicyError must list its problems"
    return {p.parameter: p.reason for p in info.value.problems}


def _buckets(data: Data) -> list[Data]:
    buckets: list[Data] = data["dpd_buckets"]
    return buckets


# (change to the default policy, parameter that must be named, words the reason must contain)
CASES: dict[str, tuple[Callable[[Data], Any], str, str]] = {
    "gapped buckets": (
        lambda d: _buckets(d)[2].update(min_dpd=35),
        "dpd_buckets[2].min_dpd",
        "gap after bucket 'M1'",
    ),
    "overlapping buckets": (
        lambda d: _buckets(d)[2].update(min_dpd=25),
        "dpd_buckets[2].min_dpd",
        "overlaps bucket 'M1'",
    ),
    "first bucket not at 0": (
        lambda d: _buckets(d)[0].update(min_dpd=1, max_dpd=1) or _buckets(d)[1].update(min_dpd=2),
        "dpd_buckets[0].min_dpd",
        "must be 0",
    ),
    "open-ended bucket not last": (
        lambda d: _buckets(d)[1].pop("max_dpd"),
        "dpd_buckets[1].max_dpd",
        "open-ended but is not the last",
    ),
    "last bucket closed": (
        lambda d: _buckets(d)[4].update(max_dpd=999),
        "dpd_buckets[4].max_dpd",
        "must be open-ended",
    ),
    "bucket upside down": (
        lambda d: _buckets(d)[1].update(max_dpd=0) or _buckets(d)[2].update(min_dpd=1),
        "dpd_buckets[1].max_dpd",
        "must be >= min_dpd",
    ),
    "no buckets": (lambda d: d.update(dpd_buckets=[]), "dpd_buckets", "at least one"),
    "duplicate bucket name": (
        lambda d: _buckets(d)[3].update(name="M2"),
        "dpd_buckets[3].name",
        "duplicate of dpd_buckets[2]",
    ),
    "bad bucket name": (
        lambda d: _buckets(d)[1].update(name="M 1"),
        "dpd_buckets[1].name",
        "bucket name",
    ),
    "loan floors unordered": (
        lambda d: d["classification"]["loan"].update(doubtful=80),
        "classification.loan.doubtful",
        "greater than substandard (90)",
    ),
    "card floors equal": (
        lambda d: d["classification"]["card"].update(loss=120),
        "classification.card.loss",
        "greater than doubtful (120)",
    ),
    "min contacts above CN daily cap x 7": (
        lambda d: (
            d["contact"]["jurisdictions"].pop("US")
            and d["collections"]["min_contacts_per_week"].update({"M3+": 22})
        ),
        "collections.min_contacts_per_week.M3+",
        "contact.jurisdictions.CN.max_connected_calls_per_day (3 x 7 days = 21 a week)",
    ),
    "min contacts above US 7 per 7 days": (
        lambda d: d["collections"]["min_contacts_per_week"].update({"M3+": 8}),
        "collections.min_contacts_per_week.M3+",
        "contact.jurisdictions.US.max_call_attempts_per_7_days (7 a week)",
    ),
    "lowered cap below a minimum": (
        lambda d: d["contact"]["jurisdictions"]["CN"].update(max_connected_calls_per_day=0),
        "collections.min_contacts_per_week.M2",
        "contact.jurisdictions.CN.max_connected_calls_per_day",
    ),
    "negative grace days": (
        lambda d: d["classification"].update(technical_grace_days=-1),
        "classification.technical_grace_days",
        "greater than or equal to 0",
    ),
    "negative churn threshold": (
        lambda d: d["churn"].update(card_overdue_times=-3),
        "churn.card_overdue_times",
        "greater than or equal to 1",
    ),
    "negative min contacts": (
        lambda d: d["collections"]["min_contacts_per_week"].update(M2=-1),
        "collections.min_contacts_per_week.M2",
        "greater than or equal to 0",
    ),
    "negative cap": (
        lambda d: d["contact"]["jurisdictions"]["US"].update(max_call_attempts_per_7_days=-7),
        "contact.jurisdictions.US.max_call_attempts_per_7_days",
        "greater than or equal to 0",
    ),
    "negative materiality": (
        lambda d: d["allocation"].update(materiality_threshold="-1.00"),
        "allocation.materiality_threshold",
        ">= 0",
    ),
    "reminder window reversed": (
        lambda d: d["reminders"].update(first_working_day=4),
        "reminders.last_working_day",
        "first_working_day (4)",
    ),
    "unknown top-level key": (
        lambda d: d.update(grace=7),
        "grace",
        "unknown parameter",
    ),
    "unknown nested key": (
        lambda d: d["contact"]["jurisdictions"]["CN"].update(max_calls_per_day=3),
        "contact.jurisdictions.CN.max_calls_per_day",
        "unknown parameter",
    ),
    "unknown key in a bucket": (
        lambda d: _buckets(d)[0].update(label="C"),
        "dpd_buckets[0].label",
        "unknown parameter",
    ),
    "missing section": (lambda d: d.pop("churn"), "churn", "missing"),
    "string for int": (
        lambda d: d["classification"]["loan"].update(loss="abc"),
        "classification.loan.loss",
        "whole number (got 'abc')",
    ),
    "numeric string for int": (
        lambda d: d["churn"].update(card_overdue_times="6"),
        "churn.card_overdue_times",
        "whole number",
    ),
    "bool for int": (
        lambda d: d["reminders"].update(first_working_day=True),
        "reminders.first_working_day",
        "whole number (got True)",
    ),
    "float for int": (
        lambda d: _buckets(d)[1].update(max_dpd=30.0),
        "dpd_buckets[1].max_dpd",
        "whole number",
    ),
    "int for name": (
        lambda d: d["contact"].update(default_jurisdiction=1),
        "contact.default_jurisdiction",
        "must be text (got 1)",
    ),
    "table expected": (
        lambda d: d.update(classification=3),
        "classification",
        "must be a table",
    ),
    "bad allocation order": (
        lambda d: d["allocation"].update(order="fees_first"),
        "allocation.order",
        "'interest_first' or 'principal_first'",
    ),
    "materiality with 3 decimals": (
        lambda d: d["allocation"].update(materiality_threshold="0.005"),
        "allocation.materiality_threshold",
        "at most 2 decimals",
    ),
    "materiality as float": (
        lambda d: d["allocation"].update(materiality_threshold=0.5),
        "allocation.materiality_threshold",
        "written as text",
    ),
    "materiality not a number": (
        lambda d: d["allocation"].update(materiality_threshold="ten"),
        "allocation.materiality_threshold",
        "amount",
    ),
    "stage for unknown bucket": (
        lambda d: d["collections"]["stages"].update(M9="legal_review"),
        "collections.stages.M9",
        "no DPD bucket named 'M9'",
    ),
    "bucket without a stage": (
        lambda d: d["collections"]["stages"].pop("M2"),
        "collections.stages",
        "no value for bucket(s) M2",
    ),
    "min contacts for unknown bucket": (
        lambda d: d["collections"]["min_contacts_per_week"].update(M4=1),
        "collections.min_contacts_per_week.M4",
        "no DPD bucket named 'M4'",
    ),
    "bad stage": (
        lambda d: d["collections"]["stages"].update(M2="pray"),
        "collections.stages.M2",
        "must be",
    ),
    "default jurisdiction without rules": (
        lambda d: d["contact"].update(default_jurisdiction="JP"),
        "contact.default_jurisdiction",
        "no rules",
    ),
    "bad jurisdiction code": (
        lambda d: d["contact"]["jurisdictions"].update(cn={}),
        "contact.jurisdictions.cn",
        "invalid name",
    ),
    "bad clock time": (
        lambda d: d["contact"]["jurisdictions"]["CN"].update(quiet_hours_start="25:00"),
        "contact.jurisdictions.CN.quiet_hours_start",
        "clock time",
    ),
    "no staff on visits": (
        lambda d: d["contact"].update(min_staff_per_visit=0),
        "contact.min_staff_per_visit",
        "greater than or equal to 1",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_policy_names_the_parameter(case: str, default_data: Data) -> None:
    change, parameter, words = CASES[case]
    change(default_data)
    problems = rejected(default_data)
    assert parameter in problems, f"{parameter} not named; got {problems}"
    assert words in problems[parameter]


def test_message_reads_parameter_colon_reason(default_data: Data) -> None:
    default_data["classification"]["loan"]["doubtful"] = 80
    with pytest.raises(PolicyError) as info:
        policy_from_dict(default_data)
    assert str(info.value) == (
        "classification.loan.doubtful: must be greater than substandard (90), got 80"
    )


def test_several_problems_are_all_reported(default_data: Data) -> None:
    default_data["churn"]["card_overdue_times"] = -1
    default_data["allocation"]["order"] = "nope"
    default_data["surprise"] = 1
    assert set(rejected(default_data)) == {
        "churn.card_overdue_times",
        "allocation.order",
        "surprise",
    }


def test_empty_bucket_list_does_not_flood_references(default_data: Data) -> None:
    default_data["dpd_buckets"] = []
    assert list(rejected(default_data)) == ["dpd_buckets"]


def test_toml_syntax_error_has_line_info(default_text: str) -> None:
    broken = default_text.replace("order = ", "order ", 1)
    line = broken.splitlines().index('order "interest_first"') + 1
    with pytest.raises(PolicyError) as info:
        parse_policy(broken)
    (problem,) = info.value.problems
    assert problem.parameter == "(TOML syntax)"
    assert f"line {line}" in problem.reason


def test_unreadable_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as info:
        load_policy(tmp_path / "missing.toml")
    assert "missing.toml" in str(info.value)
    with pytest.raises(PolicyFileError):
        load_policy(tmp_path)  # a directory


def test_non_utf8_file_is_a_policy_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert not isinstance(info.value, PolicyFileError)
    assert "UTF-8" in str(info.value)


def test_problem_str() -> None:
    assert str(Problem("a.b", "bad")) == "a.b: bad"
