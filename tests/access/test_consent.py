from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from postloan.access.consent import Purpose, has_consent, record_consent, require_consent
from postloan.access.errors import ConsentRequired
from postloan.access.users import User
from tests.access.conftest import NOW


def test_latest_record_wins(engine: Engine, people: dict[str, User]) -> None:
    with engine.begin() as conn:
        assert not has_consent(conn, "C2", "profiling")
        record_consent(conn, "C2", "profiling", True, NOW, "app")
        assert has_consent(conn, "C2", Purpose.PROFILING)
        record_consent(conn, "C2", "profiling", False, NOW + timedelta(days=1), "call centre")
        assert not has_consent(conn, "C2", "profiling")
        # recorded later but dated earlier: does not override the withdrawal
        record_consent(conn, "C2", "profiling", True, NOW - timedelta(days=1), "paper form")
        assert not has_consent(conn, "C2", "profiling")
        # same moment: the later record wins
        record_consent(conn, "C2", "profiling", True, NOW + timedelta(days=1), "app")
        assert has_consent(conn, "C2", "profiling")
        # purposes are separate
        assert not has_consent(conn, "C2", "data_sharing")


def test_marketing_falls_back_to_the_imported_flag(engine: Engine, people: dict[str, User]) -> None:
    with engine.begin() as conn:
        assert has_consent(conn, "C1", "marketing")  # consent_marketing True
        assert not has_consent(conn, "C2", "marketing")  # False
        assert not has_consent(conn, "C3", "marketing")  # unknown
        assert not has_consent(conn, "NOPE", "marketing")
        record_consent(conn, "C1", "marketing", False, NOW, "sms STOP")
        assert not has_consent(conn, "C1", "marketing")


def test_require_consent(engine: Engine, people: dict[str, User]) -> None:
    with engine.begin() as conn:
        require_consent(conn, "C1", "marketing")
        with pytest.raises(ConsentRequired) as info:
            require_consent(conn, "C2", "marketing")
    assert (info.value.customer_id, info.value.purpose) == ("C2", "marketing")


def test_unknown_purpose(engine: Engine) -> None:
    with pytest.raises(ValueError), engine.begin() as conn:
        record_consent(conn, "C1", "astrology", True, NOW, "app")
