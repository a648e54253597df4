"""A policy's version is its content: layout never changes it, any value does."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import tomli_w

from postloan.policy import default_policy, dump_policy_toml, parse_policy, policy_from_dict

DEFAULT_VERSION = default_policy().version


def _reversed(value: Any) -> Any:
    """Same content, every table's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def test_reordered_keys_give_the_same_version(default_data: dict[str, Any]) -> None:
    text = tomli_w.dumps(_reversed(default_data))
    assert text.index("[churn]") < text.index("[classification]")  # really reordered
    assert parse_policy(text).version == DEFAULT_VERSION


def test_comments_and_whitespace_do_not_change_the_version(default_text: str) -> None:
    without_comments = "\n".join(
        line.split("#", 1)[0].rstrip() if '"M3+"' not in line else line
        for line in default_text.splitlines()
        if not line.lstrip().startswith("#")
    )
    spaced = default_text.replace(" = ", "   =   ").replace("\n[", "\n\n\n# moved\n[")
    assert without_comments != default_text and spaced != default_text
    assert parse_policy(without_comments).version == DEFAULT_VERSION
    assert parse_policy(spaced).version == DEFAULT_VERSION


def test_equivalent_spellings_give_the_same_version(default_text: str) -> None:
    variants = [
        default_text.replace('materiality_threshold = "0.00"', 'materiality_threshold = "0"'),
        default_text.replace('materiality_threshold = "0.00"', "materiality_threshold = 0"),
        default_text.replace('quiet_hours_start = "22:00"', 'quiet_hours_start = "22:00:00"'),
        default_text.replace('quiet_hours_start = "22:00"', "quiet_hours_start = 22:00:00"),
    ]
    for text in variants:
        assert text != default_text
        assert parse_policy(text).version == DEFAULT_VERSION


def test_shown_toml_round_trips() -> None:
    assert parse_policy(dump_policy_toml(default_policy())).version == DEFAULT_VERSION


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


# One valid change per kind of setting: each must give a new version.
VALUE_CHANGES = {
    "bucket name": lambda d: (
        _set(("dpd_buckets", 0, "name"), "C")(d),
        _set(("collections", "stages", "C"), d["collections"]["stages"].pop("current"))(d),
        _set(
            ("collections", "min_contacts_per_week", "C"),
            d["collections"]["min_contacts_per_week"].pop("current"),
        )(d),
    ),
    "bucket bound": lambda d: (
        _set(("dpd_buckets", 1, "max_dpd"), 29)(d),
        _set(("dpd_buckets", 2, "min_dpd"), 30)(d),
    ),
    "grace days": _set(("classification", "technical_grace_days"), 3),
    "loan floor": _set(("classification", "loan", "doubtful"), 180),
    "card floor": _set(("classification", "card", "loss"), 181),
    "allocation order": _set(("allocation", "order"), "principal_first"),
    "materiality": _set(("allocation", "materiality_threshold"), "0.01"),
    "reminder window": _set(("reminders", "last_working_day"), 2),
    "stage": _set(("collections", "stages", "M3"), "legal_review"),
    "min contacts": _set(("collections", "min_contacts_per_week", "M2"), 3),
    "failed contacts": _set(("collections", "legal_min_failed_contacts"), 6),
    "agreement dpd": _set(("collections", "agreement_min_dpd"), 30),
    "default jurisdiction": _set(("contact", "default_jurisdiction"), "US"),
    "staff per visit": _set(("contact", "min_staff_per_visit"), 3),
    "quiet hours": _set(("contact", "jurisdictions", "CN", "quiet_hours_end"), "08:30"),
    "daily cap": _set(("contact", "jurisdictions", "CN", "max_connected_calls_per_day"), 2),
    "added cap": _set(("contact", "jurisdictions", "UK", "max_call_attempts_per_7_days"), 10),
    "cooldown": _set(("contact", "jurisdictions", "US", "cooldown_days_after_conversation"), 6),
    "churn": _set(("churn", "months_without_credit_transaction"), 18),
    "lookback": _set(("churn", "cumulative_lookback_months"), 12),
}


@pytest.mark.parametrize("name", sorted(VALUE_CHANGES))
def test_any_value_change_changes_the_version(name: str, default_data: dict[str, Any]) -> None:
    VALUE_CHANGES[name](default_data)
    changed = policy_from_dict(default_data)
    assert changed.version != DEFAULT_VERSION
    # ...and the change survives a round trip through the shown TOML.
    assert parse_policy(dump_policy_toml(changed)).version == changed.version


def test_all_changes_give_distinct_versions(default_data: dict[str, Any]) -> None:
    versions = set()
    for change in VALUE_CHANGES.values():
        data = copy.deepcopy(default_data)
        change(data)
        versions.add(policy_from_dict(data).version)
    assert len(versions) == len(VALUE_CHANGES)


def test_model_copy_does_not_keep_a_stale_version() -> None:
    p = default_policy()
    q = p.model_copy(update={"allocation": p.allocation.model_copy(update={"order": "x"})})
    assert q.version != p.version
