"""A test-only business area, "ping": one table, one daily-run step, one API route, one page
with a navigation link, one permission action and its messages — everything in this package.
Registering it (`postloan.areas.register(pingarea.AREA)`) is the only line outside it: the
proof that a new area slots in without editing the core (issue 11)."""

from tests.areas.pingarea.area import AREA

__all__ = ["AREA"]
