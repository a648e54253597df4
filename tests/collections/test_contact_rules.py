"""The input checks of a contact before it is recorded, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from postloan.collections.rules.contacts import Contact, check_record_inputs, promise_made_on

# 17:30 UTC is 01:30 the next day in Shanghai.
LATE = Contact("C1", datetime(2026, 6, 1, 17, 30, tzinfo=UTC), "phone", ("u1",), "promise_to_pay")


def test_record_inputs_channel_outcome_and_promise() -> None:
    check_record_inputs(LATE, (100, date(2026, 6, 5)))
    with pytest.raises(ValueError, match="channel: one of"):
        check_record_inputs(Contact("C1", LATE.at, "fax", (), "sent"), None)
    with pytest.raises(ValueError, match="outcome: one of"):
        check_record_inputs(Contact("C1", LATE.at, "phone", (), None), None)
    with pytest.raises(ValueError, match="only a promise_to_pay"):
        check_record_inputs(
            Contact("C1", LATE.at, "phone", (), "connected"), (100, date(2026, 6, 5))
        )


def test_promise_made_on_the_local_day() -> None:
    assert promise_made_on(LATE, (100, date(2026, 6, 2)), "Asia/Shanghai") == date(2026, 6, 2)
    assert promise_made_on(LATE, (100, date(2026, 6, 1)), "UTC") == date(2026, 6, 1)
    with pytest.raises(ValueError, match="due on or after"):
        promise_made_on(LATE, (100, date(2026, 6, 1)), "Asia/Shanghai")
    with pytest.raises(ValueError, match="a positive amount"):
        promise_made_on(LATE, (0, date(2026, 6, 9)), "UTC")
