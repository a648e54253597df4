"""Legal cases (OD-8, OD-10), write-offs and asset disposals (migration 0007)."""

from __future__ import annotations

from postloan.store.schema import metadata  # noqa: F401
