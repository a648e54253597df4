"""The packaged default policy: valid, and carrying the documented values."""

from __future__ import annotations

import hashlib
import json
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from postloan.policy import (
    POLICY_ENV_VAR,
    ClassFloors,
    DpdBucket,
    Policy,
    current_policy,
    default_policy,
    load_policy,
    parse_policy,
)


def test_default_policy_is_a_policy_and_is_cached() -> None:
    policy = default_policy()
    assert isinstance(policy, Policy)
    assert default_policy() is policy


def test_packaged_file_parses_to_the_default(default_text: str) -> None:
    assert parse_policy(default_text).version == default_policy().version


def test_buckets() -> None:
    assert default_policy().dpd_buckets == [
        DpdBucket(name="current", min_dpd=0, max_dpd=0),
        DpdBucket(name="M1", min_dpd=1, max_dpd=30),
        DpdBucket(name="M2", min_dpd=31, max_dpd=60),
        DpdBucket(name="M3", min_dpd=61, max_dpd=90),
        DpdBucket(name="M3+", min_dpd=91, max_dpd=None),
    ]


def test_classification() -> None:
    c = default_policy().classification
    assert c.technical_grace_days == 7
    assert c.loan == ClassFloors(special_mention=0, substandard=90, doubtful=270, loss=360)
    assert c.card == ClassFloors(special_mention=0, substandard=90, doubtful=120, loss=180)
    assert c.floors_for("loan") is c.loan
    assert c.floors_for("card") is c.card
    with pytest.raises(ValueError, match="account type"):
        c.floors_for("lease")


def test_allocation_and_reminders() -> None:
    p = default_policy()
    assert p.allocation.order == "interest_first"
    assert p.allocation.materiality_threshold == Decimal("0.00")
    assert isinstance(p.allocation.materiality_threshold, Decimal)
    assert (p.reminders.first_working_day, p.reminders.last_working_day) == (1, 3)


def test_collections() -> None:
    col = default_policy().collections
    assert col.stages == {
        "current": "none",
        "M1": "reminder",
        "M2": "negotiation",
        "M3": "intensified",
        "M3+": "legal_review",
    }
    assert col.min_contacts_per_week == {"current": 0, "M1": 0, "M2": 2, "M3": 3, "M3+": 7}
    assert col.agreement_min_dpd == 31
    assert col.legal_min_dpd == 91
    assert col.legal_min_failed_contacts == 5


def test_contact_rules() -> None:
    contact = default_policy().contact
    assert contact.default_jurisdiction == "CN"
    assert contact.min_staff_per_visit == 2
    cn, us, uk = (contact.jurisdictions[k] for k in ("CN", "US", "UK"))
    assert (cn.quiet_hours_start, cn.quiet_hours_end) == (time(22), time(8))
    assert cn.max_connected_calls_per_day == 3
    assert cn.max_call_attempts_per_7_days is None
    assert cn.cooldown_days_after_conversation == 0
    assert (us.quiet_hours_start, us.quiet_hours_end) == (time(21), time(8))
    assert us.max_call_attempts_per_7_days == 7
    assert us.max_connected_calls_per_day is None
    assert us.cooldown_days_after_conversation == 7
    assert uk.max_connected_calls_per_day is None and uk.max_call_attempts_per_7_days is None
    assert contact.rules_for("US") is us
    assert contact.rules_for(None) is cn
    assert contact.rules_for("JP") is cn


def test_churn_thresholds() -> None:
    ch = default_policy().churn
    assert ch.loan_consecutive_overdue_periods == 3
    assert ch.loan_cumulative_overdue_periods == 6
    assert ch.card_consecutive_months_not_paid_in_full == 3
    assert ch.card_overdue_times == 6
    assert ch.cumulative_lookback_months == 24
    assert ch.months_after_closing_without_reapplying == 6
    assert ch.months_after_transfer_out_without_resuming == 6
    assert ch.months_without_credit_transaction == 12


def test_every_churn_threshold_is_justified_in_the_file(default_text: str) -> None:
    # Each churn parameter must be preceded by a comment block explaining its default.
    lines = default_text.split("[churn]", 1)[1].splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[i - 1].lstrip().startswith("#") or lines[i - 2].lstrip().startswith("#"), (
                f"no justification comment above {line!r}"
            )


def test_version_is_sha256_of_canonical_json() -> None:
    p = default_policy()
    canonical = json.dumps(
        p.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )  # as `policy.canonical_json`: names (industries, products) may be Chinese
    assert p.version == hashlib.sha256(canonical.encode()).hexdigest()
    assert len(p.version) == 64


def test_version_is_not_part_of_the_dump() -> None:
    assert "version" not in default_policy().model_dump()


def test_policy_is_immutable() -> None:
    p = default_policy()
    with pytest.raises(ValueError, match="frozen"):
        setattr(p.allocation, "order", "principal_first")  # noqa: B010


def test_current_policy_honours_env(
    tmp_path: Path, default_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(POLICY_ENV_VAR, raising=False)
    assert current_policy() is default_policy()
    path = tmp_path / "p.toml"
    path.write_text(default_text.replace("technical_grace_days = 7", "technical_grace_days = 3"))
    monkeypatch.setenv(POLICY_ENV_VAR, str(path))
    assert current_policy().classification.technical_grace_days == 3
    assert current_policy().version == load_policy(path).version != default_policy().version
