"""Management's part of the daily run: `management.totals` stores the pack's month totals from
the run's first month on (`totals.run_step`), then `management.pack` stores the month's
printable pack on a month's last calendar day (`packs.run_step`), built from those totals.

They run after `account_status` only by declaration, and last in practice: the management area
is the last of `areas.BUILT_IN` and `order_steps` keeps declaration order among steps free to
go, so every other area's step (whose figures the pack shows) has run before it — a test
checks it (`tests/management/test_scheduled.py`). Naming the other areas' steps in `after`
would make the run fail when one of them is not registered."""

from __future__ import annotations

from postloan.area import Step
from postloan.management import packs, totals

STEPS: tuple[Step, ...] = (
    Step("management.totals", totals.run_step),
    Step("management.pack", packs.run_step, after=("management.totals",)),
)
