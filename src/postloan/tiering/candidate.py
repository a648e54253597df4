"""Candidate cut-offs typed by hand (the review page's what-if form, LY-4): the policy in force
with some of its `[tiering]` cut-offs replaced, validated like any policy.

Only the numeric cut-offs a reviewer weighs against the history are offered (`CUTOFFS`: credit
status, repayment capacity, the hysteresis); the whole section goes through the policy's own
checks, so a candidate the policy would refuse is refused here too, naming the setting. The
API's what-if (`POST /api/tiering/whatif`) takes the whole section instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postloan.errors import InvalidError
from postloan.policy import Policy, PolicyError, policy_from_dict

# (section of `[tiering]` or "" for the section itself, setting): the form's fields, in order.
CUTOFFS: tuple[tuple[str, str], ...] = (
    ("credit", "good_max_times_late"),
    ("credit", "poor_min_times_late"),
    ("credit", "poor_min_dpd"),
    ("capacity", "strong_max_dsr_percent"),
    ("capacity", "strong_max_dti_percent"),
    ("capacity", "weak_min_dsr_percent"),
    ("capacity", "weak_min_dti_percent"),
    ("", "upgrade_after_dates"),
)
MAX_CUTOFF = 100_000  # far above any sensible DPD, count or percentage; bounds the input
MAX_TYPED = 12  # characters of a typed value
NOT_WHOLE, REFUSED = "not_whole", "refused_by_policy"  # the InvalidError codes


def field_name(section: str, key: str) -> str:
    """The form field and policy path below `tiering.`: `credit.poor_min_dpd`."""
    return f"{section}.{key}" if section else key


FIELDS = tuple(field_name(s, k) for s, k in CUTOFFS)


def in_force(policy: Policy) -> dict[str, int]:
    """Each offered cut-off's value in `policy`."""
    t = policy.tiering
    return {field_name(s, k): int(getattr(getattr(t, s) if s else t, k)) for s, k in CUTOFFS}


def _whole(name: str, typed: str) -> int:
    text = typed.strip()
    if len(text) > MAX_TYPED or not text.isascii() or not text.isdigit():
        raise _not_whole(name)
    value = int(text)
    if value > MAX_CUTOFF:
        raise _not_whole(name)
    return value


def _not_whole(name: str) -> InvalidError:
    return InvalidError(f"tiering.{name}: a whole number from 0 to {MAX_CUTOFF}", field=name,
                        code=NOT_WHOLE)  # fmt: skip


def candidate_of(policy: Policy, typed: Mapping[str, str]) -> tuple[Policy, dict[str, int]]:
    """(the candidate policy, its offered cut-offs): `policy` with the cut-offs `typed` (form
    field → text; a missing or empty field keeps the value in force). InvalidError naming the
    field for a value that is not a whole number in range or that the policy refuses."""
    values = in_force(policy)
    for name in FIELDS:
        text = typed.get(name)
        if text is not None and text.strip():
            values[name] = _whole(name, text)
    data: dict[str, Any] = policy.model_dump(mode="json")
    section = data["tiering"]
    for s, k in CUTOFFS:
        (section[s] if s else section)[k] = values[field_name(s, k)]
    try:
        found = policy_from_dict(data, "what-if")
    except PolicyError as exc:
        first = exc.problems[0].parameter if exc.problems else ""
        field = first.removeprefix("tiering.") if first.startswith("tiering.") else None
        raise InvalidError(str(exc), field=field, code=REFUSED) from None
    return found, values
