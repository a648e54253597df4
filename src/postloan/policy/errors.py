"""Policy errors that name the parameter, in words a risk officer can act on.

Every problem is reported as ``parameter: reason`` where *parameter* is the dotted path of the
setting in the policy file (``classification.loan.doubtful``, ``dpd_buckets[2].min_dpd``,
``contact.jurisdictions.CN.max_connected_calls_per_day``).

Checks that involve several settings are written inside the pydantic models; they raise a
``policy_rule`` error carrying paths *relative to the model that raised it*, and
`problems_from_validation_error` joins them to the location pydantic reports, so each model can
check its own rules without knowing where it sits in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]


class Problem(NamedTuple):
    """One thing wrong with a policy: the parameter's dotted path and why it is wrong."""

    parameter: str
    reason: str

    def __str__(self) -> str:
        return f"{self.parameter}: {self.reason}"


class PolicyError(ValueError):
    """A policy that cannot be used; `problems` lists every parameter at fault."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__("\n".join(str(p) for p in self.problems))


class PolicyFileError(PolicyError):
    """The policy file could not be read at all (missing, unreadable, a directory)."""


def format_loc(loc: Iterable[str | int]) -> str:
    """``("dpd_buckets", 2, "min_dpd")`` -> ``"dpd_buckets[2].min_dpd"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(policy)"


def rule_error(problems: Sequence[tuple[Loc, str]]) -> PydanticCustomError:
    """An error for broken cross-field rules, each given as (relative path, reason)."""
    summary = "; ".join(f"{format_loc(loc)}: {reason}" for loc, reason in problems)
    return PydanticCustomError("policy_rule", "{summary}", {"summary": summary, "rules": problems})


# Plain-language reasons for pydantic's error types; anything else keeps pydantic's message.
_REASONS = {
    "extra_forbidden": "unknown parameter (not part of the policy; check the spelling)",
    "missing": "required parameter is missing",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "dict_type": "must be a table",
    "list_type": "must be a list",
    "model_type": "must be a table",
}


def _reason(error: Any) -> str:
    kind = error["type"]
    reason = _REASONS.get(kind)
    if reason is None:
        msg = str(error["msg"])
        reason = msg.removeprefix("Value error, ").removeprefix("Input ").rstrip(".")
        if kind == "literal_error":
            reason = reason.replace("should be", "must be")
        elif reason.startswith("should "):
            reason = "must " + reason.removeprefix("should ")
    if kind not in ("extra_forbidden", "missing", "dict_type", "model_type", "list_type"):
        reason += f" (got {error['input']!r})"
    return reason


def problems_from_validation_error(exc: ValidationError) -> list[Problem]:
    """Turn pydantic's errors into `Problem`s with dotted parameter paths."""
    problems: list[Problem] = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        if error["type"] == "policy_rule":
            for rel, reason in error["ctx"]["rules"]:
                problems.append(Problem(format_loc(loc + tuple(rel)), reason))
        elif loc and loc[-1] == "[key]":
            # A bad table key (bucket or jurisdiction name): report it as the parameter.
            problems.append(Problem(format_loc(loc[:-1]), "invalid name: " + _reason(error)))
        else:
            problems.append(Problem(format_loc(loc), _reason(error)))
    return problems
