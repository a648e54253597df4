"""KPI definitions are validated policy data (no database): a lagged 口径 needs its lag and the
lagged denominator, an overdue numerator a DPD, a target a defined KPI; a changed definition
changes the definitions' version (what every published figure names)."""

from __future__ import annotations

from typing import Any

import pytest

from postloan.management.rules.pack import definitions_version
from postloan.policy import default_policy
from postloan.policy.loader import PolicyError, policy_from_dict


def _with(change: dict[str, Any]) -> dict[str, Any]:
    data = default_policy().model_dump(mode="json")
    data["management"]["kpis"]["overdue_rate"].update(change)
    return data


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"timing": "lagged"}, "lagged"),
        ({"lag_months": 2}, "lag_months"),
        ({"denominator": "outstanding_lagged"}, "denominator"),
        ({"min_dpd": 0}, "min_dpd"),
        ({"basis": "balance"}, "basis"),
        ({"period": "cycle"}, "period"),
    ],
)
def test_inconsistent_definitions_are_refused(change: dict[str, Any], words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        policy_from_dict(_with(change))


def test_a_target_names_a_defined_kpi() -> None:
    data = default_policy().model_dump(mode="json")
    data["management"]["targets"].append({"kpi": "no_such", "direction": "at_most", "value": 0.1})
    with pytest.raises(PolicyError, match="no_such"):
        policy_from_dict(data)


def test_a_changed_definition_changes_the_version() -> None:
    before = definitions_version(default_policy().management)
    changed = policy_from_dict(_with({"min_dpd": 2, "version": 2}))
    assert definitions_version(changed.management) != before
    assert changed.management.kpis["overdue_rate"].version == 2
    same = policy_from_dict(default_policy().model_dump(mode="json"))
    assert definitions_version(same.management) == before
