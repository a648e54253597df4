"""The ledger (账务): repayment schedules — exact money, pure functions.

- `build_schedule(...)` -> list[Instalment]: one loan's schedule in exact decimal arithmetic
  (the reference, DATA_CONTRACT "loans").
- `generate_instalments(loans)` -> frames.INSTALMENTS: every loan's schedule, vectorised, equal
  to `build_schedule` row for row.
- `override_instalments(generated, imported)`: imported schedules replace generated ones
  wholesale per loan.
- `add_months(d, k)`: month arithmetic rolled to the month's last day.
"""

from postloan.ledger.dates import add_months
from postloan.ledger.schedule import Instalment, build_schedule, schedule_cents
from postloan.ledger.schedule_frame import generate_instalments, override_instalments

__all__ = [
    "Instalment",
    "add_months",
    "build_schedule",
    "generate_instalments",
    "override_instalments",
    "schedule_cents",
]
