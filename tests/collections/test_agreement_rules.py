"""The pure agreement rules, without a database: the new schedule of an extension and of a
re-spread, and the check that an extension cures the arrears."""

from __future__ import annotations

from datetime import date

import pytest

from postloan.collections.rules.agreements import (
    AgreementInvalid,
    NewInstalment,
    Terms,
    check_built,
    new_schedule,
)
from postloan.engine.single import InstalmentDue

SCHEDULE = [
    InstalmentDue(1, date(2026, 1, 15), 1000, 50),
    InstalmentDue(2, date(2026, 2, 15), 1000, 40),
    InstalmentDue(3, date(2026, 3, 15), 1000, 30),
]
# Period 1 fully paid, period 2 part paid, period 3 untouched.
STATES = [
    {"period": 1, "covered_principal": 1000, "covered_interest": 50},
    {"period": 2, "covered_principal": 400, "covered_interest": 40},
    {"period": 3, "covered_principal": 0, "covered_interest": 0},
]


def test_extension_moves_the_unpaid_instalments() -> None:
    built = new_schedule(SCHEDULE, STATES, "extension", extension_months=2)
    assert built == [
        NewInstalment(1, date(2026, 1, 15), 1000, 50, False),
        NewInstalment(2, date(2026, 4, 15), 1000, 40, True),
        NewInstalment(3, date(2026, 5, 15), 1000, 30, True),
    ]


def test_instalments_respread_the_unpaid_amounts() -> None:
    built = new_schedule(
        SCHEDULE, STATES, "instalments", instalments=3, first_due_date=date(2026, 4, 1)
    )
    # 2000 principal and 70 interest over 3 months: 667, 667, 666 and 23, 23, 24.
    assert built[0] == NewInstalment(1, date(2026, 1, 15), 1000, 50, False)
    assert [(i.period, i.due_date, i.principal_due, i.interest_due) for i in built[1:]] == [
        (4, date(2026, 4, 1), 667, 23),
        (5, date(2026, 5, 1), 667, 23),
        (6, date(2026, 6, 1), 666, 24),
    ]
    assert sum(i.principal_due for i in built[1:]) == 2000
    assert sum(i.interest_due for i in built[1:]) == 70


def test_an_extension_too_short_is_refused_with_the_months_needed() -> None:
    terms = Terms("extension", None, None, 1)
    built = new_schedule(SCHEDULE, STATES, "extension", extension_months=1)
    # Period 2 moves to 15 March, still overdue on 1 April; 15 April needs 2 months.
    with pytest.raises(AgreementInvalid, match="at least 2 months"):
        check_built("LN1", terms, SCHEDULE, built, date(2026, 4, 1))
    check_built("LN1", terms, SCHEDULE, built, date(2026, 3, 15))
