"""A reveal's reason must say something: the policy's minimum (`security.reveal`), counting a
Chinese character as two, with enough different characters (issue 10, hardening)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from postloan.access.errors import ReasonRequired
from postloan.access.reveal import MAX_REASON_CHARS, check_reason, reason_units, reveal
from postloan.access.users import User
from postloan.policy import default_policy, policy_from_dict
from postloan.policy.security import Reveal
from tests.access.conftest import NOW

DEFAULT = default_policy().security.reveal  # 8 units, 3 different characters


def test_default_minimum() -> None:
    assert (DEFAULT.min_reason_chars, DEFAULT.min_distinct_chars) == (8, 3)


@pytest.mark.parametrize(
    "reason",
    ["verify on call", "客户来电核实", "核实身份", "court filing", "  法院  立案  ", "ab12ab12"],
)
def test_meaningful_reasons_pass(reason: str) -> None:
    assert check_reason(reason, DEFAULT) == " ".join(reason.split())


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        "x",
        "aaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaa",
        "AaAaAaAaAa",
        "核实身",
        "why not",
        "ab ab ab ab",
        "...,,,...",
    ],
)
def test_empty_short_or_repetitive_reasons_are_refused(reason: str) -> None:
    with pytest.raises(ReasonRequired) as refused:
        check_reason(reason, DEFAULT)
    message = str(refused.value)
    assert message.startswith("reason:") and "8" in message and "3" in message


def test_cjk_counts_two() -> None:
    assert reason_units("核实身份") == 8
    assert reason_units("ab 核实") == 7
    assert reason_units("ＡＢ") == 4  # full-width forms are wide too


def test_too_long_is_refused() -> None:
    with pytest.raises(ReasonRequired, match=str(MAX_REASON_CHARS)):
        check_reason("reason " * 100, DEFAULT)


def test_the_minimum_comes_from_the_policy(engine: Engine, people: dict[str, User]) -> None:
    data = default_policy().model_dump(mode="json")
    data["security"]["reveal"] = {"min_reason_chars": 20, "min_distinct_chars": 6}
    strict = policy_from_dict(data)
    assert strict.security.reveal == Reveal(min_reason_chars=20, min_distinct_chars=6)
    with pytest.raises(ReasonRequired, match="20"), engine.begin() as conn:
        reveal(conn, people["legal"], "C1", "phone", "court filing", NOW, policy=strict)
    with engine.begin() as conn:
        assert reveal(conn, people["legal"], "C1", "phone", "court filing", NOW) == "13812345678"
        value = reveal(
            conn,
            people["legal"],
            "C1",
            "phone",
            "court filing for case 2026-17",
            NOW,
            policy=strict,
        )
    assert value == "13812345678"
