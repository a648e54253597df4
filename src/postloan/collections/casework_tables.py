"""Allocation and reassignment log (ORG-1), case ratings (OD-7), strategies (OD-9) (migration
0008).
"""

from __future__ import annotations

from postloan.store.schema import metadata  # noqa: F401
