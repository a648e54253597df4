"""Helpers the engine relies on: bucket and five-category class from DPD, contact rules."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postloan.policy import JurisdictionRules, default_policy, policy_from_dict

POLICY = default_policy()

BUCKETS = {
    0: "current",
    1: "M1",
    7: "M1",
    8: "M1",
    30: "M1",
    31: "M2",
    60: "M2",
    61: "M3",
    90: "M3",
    91: "M3+",
    120: "M3+",
    121: "M3+",
    180: "M3+",
    181: "M3+",
    270: "M3+",
    271: "M3+",
    360: "M3+",
    361: "M3+",
    10_000: "M3+",
}


@pytest.mark.parametrize(("dpd", "bucket"), sorted(BUCKETS.items()))
def test_bucket_for(dpd: int, bucket: str) -> None:
    assert POLICY.bucket_for(dpd) == bucket


# dpd -> (loan class, card class) under the default policy (7 technical grace days).
CLASSES = {
    0: ("normal", "normal"),
    1: ("normal", "normal"),
    7: ("normal", "normal"),
    8: ("special_mention", "special_mention"),
    30: ("special_mention", "special_mention"),
    31: ("special_mention", "special_mention"),
    90: ("special_mention", "special_mention"),
    91: ("substandard", "substandard"),
    120: ("substandard", "substandard"),
    121: ("substandard", "doubtful"),
    180: ("substandard", "doubtful"),
    181: ("substandard", "loss"),
    270: ("substandard", "loss"),
    271: ("doubtful", "loss"),
    360: ("doubtful", "loss"),
    361: ("loss", "loss"),
}


@pytest.mark.parametrize(("dpd", "expected"), sorted(CLASSES.items()))
def test_risk_class_for(dpd: int, expected: tuple[str, str]) -> None:
    assert (POLICY.risk_class_for(dpd, "loan"), POLICY.risk_class_for(dpd, "card")) == expected


def test_without_grace_any_overdue_is_special_mention(default_data: dict[str, Any]) -> None:
    default_data["classification"]["technical_grace_days"] = 0
    policy = policy_from_dict(default_data)
    assert policy.risk_class_for(0, "loan") == "normal"
    assert policy.risk_class_for(1, "loan") == "special_mention"
    assert policy.risk_class_for(1, "card") == "special_mention"


def test_grace_never_lowers_a_non_performing_class(default_data: dict[str, Any]) -> None:
    default_data["classification"]["technical_grace_days"] = 200
    policy = policy_from_dict(default_data)
    assert policy.risk_class_for(150, "loan") == "substandard"
    assert policy.risk_class_for(150, "card") == "doubtful"
    assert policy.risk_class_for(89, "loan") == "normal"


def test_negative_dpd_and_unknown_account_type_are_refused() -> None:
    with pytest.raises(ValueError, match="dpd"):
        POLICY.bucket_for(-1)
    with pytest.raises(ValueError, match="dpd"):
        POLICY.risk_class_for(-1, "loan")
    with pytest.raises(ValueError, match="account type"):
        POLICY.risk_class_for(10, "mortgage")


@st.composite
def bucket_layouts(draw: st.DrawFn) -> list[int]:
    """Upper bounds of the closed buckets; the last bucket is open-ended."""
    widths = draw(st.lists(st.integers(1, 60), min_size=0, max_size=8))
    bounds, total = [], -1
    for width in widths:
        total += width
        bounds.append(total)
    return bounds


@given(bounds=bucket_layouts(), dpd=st.integers(0, 1000))
def test_bucket_for_matches_containment(bounds: list[int], dpd: int) -> None:
    data: dict[str, Any] = default_policy().model_dump(mode="json")
    buckets: list[dict[str, Any]] = []
    low = 0
    for i, high in enumerate(bounds):
        buckets.append({"name": f"B{i}", "min_dpd": low, "max_dpd": high})
        low = high + 1
    buckets.append({"name": "open", "min_dpd": low})
    names = [b["name"] for b in buckets]
    data["dpd_buckets"] = buckets
    data["collections"]["stages"] = dict.fromkeys(names, "none")
    data["collections"]["min_contacts_per_week"] = dict.fromkeys(names, 0)
    policy = policy_from_dict(data)
    expected = next(b["name"] for b in buckets if b["min_dpd"] <= dpd <= b.get("max_dpd", dpd))
    assert policy.bucket_for(dpd) == expected


ORDER = ["normal", "special_mention", "substandard", "doubtful", "loss"]


@given(dpd=st.integers(0, 2000), more=st.integers(0, 500), kind=st.sampled_from(["loan", "card"]))
def test_risk_class_never_improves_with_more_dpd(dpd: int, more: int, kind: str) -> None:
    earlier = ORDER.index(POLICY.risk_class_for(dpd, kind))
    later = ORDER.index(POLICY.risk_class_for(dpd + more, kind))
    assert later >= earlier


def test_card_is_never_classed_better_than_a_loan_by_default() -> None:
    for dpd in range(0, 500):
        card = ORDER.index(POLICY.risk_class_for(dpd, "card"))
        assert card >= ORDER.index(POLICY.risk_class_for(dpd, "loan"))


def _rules(**overrides: Any) -> JurisdictionRules:
    base: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "08:00",
        "cooldown_days_after_conversation": 0,
    }
    return JurisdictionRules.model_validate({**base, **overrides})


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        _rules(timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(23, 30), True),
        (time(0, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_wrap_midnight(at: time, quiet: bool) -> None:
    assert POLICY.contact.jurisdictions["CN"].in_quiet_hours(at) is quiet


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = _rules(quiet_hours_start="12:00", quiet_hours_end="13:00")
    assert lunch.in_quiet_hours(time(12, 30)) and not lunch.in_quiet_hours(time(13, 0))
    assert not lunch.in_quiet_hours(time(23, 0))
    never = _rules(quiet_hours_start="08:00", quiet_hours_end="08:00")
    assert not any(never.in_quiet_hours(time(h)) for h in range(24))


def test_us_quiet_hours_allow_eight_to_nine() -> None:
    us = POLICY.contact.jurisdictions["US"]
    assert not us.in_quiet_hours(time(8, 0)) and not us.in_quiet_hours(time(20, 59))
    assert us.in_quiet_hours(time(21, 0)) and us.in_quiet_hours(time(7, 59))


def test_weekly_call_capacity() -> None:
    assert POLICY.contact.jurisdictions["CN"].weekly_call_capacity == 21
    assert POLICY.contact.jurisdictions["US"].weekly_call_capacity == 7
    assert POLICY.contact.jurisdictions["UK"].weekly_call_capacity is None
    both = _rules(max_connected_calls_per_day=2, max_call_attempts_per_7_days=20)
    assert both.weekly_call_capacity == 14
    assert both.weekly_capacity_parameter() == "max_connected_calls_per_day"
    tighter_weekly = _rules(max_connected_calls_per_day=3, max_call_attempts_per_7_days=10)
    assert tighter_weekly.weekly_call_capacity == 10
    assert tighter_weekly.weekly_capacity_parameter() == "max_call_attempts_per_7_days"


def test_quiet_hours_show_as_written() -> None:
    dumped = POLICY.contact.jurisdictions["CN"].model_dump(mode="json")
    assert (dumped["quiet_hours_start"], dumped["quiet_hours_end"]) == ("22:00", "08:00")
    assert (
        _rules(quiet_hours_start="21:30:15").model_dump(mode="json")["quiet_hours_start"]
        == "21:30:15"
    )
