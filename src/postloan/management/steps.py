"""Management's part of the daily run: `management.pack` stores the month's printable pack on
a month's last calendar day (`packs.run_step`).

It runs after `account_status` only by declaration, and last in practice: the management area
is the last of `areas.BUILT_IN` and `order_steps` keeps declaration order among steps free to
go, so every other area's step (whose figures the pack shows) has run before it — a test
checks it (`tests/management/test_scheduled.py`). Naming the other areas' steps in `after`
would make the run fail when one of them is not registered."""

from __future__ import annotations

from postloan.area import Step
from postloan.management.packs import run_step

STEPS: tuple[Step, ...] = (Step("management.pack", run_step),)
