"""Repayment agreements (OD-4) and restructurings (migration 0006)."""

from __future__ import annotations

from postloan.store.schema import metadata  # noqa: F401
