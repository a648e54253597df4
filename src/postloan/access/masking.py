"""Masking of personal data (PIPL): everybody sees masked values by default.

Formats (docs/shared DOMAIN.md): mobile first 3 + last 4 (`138****5678`); PRC ID first 6 +
last 4 (collectors: first 3 + last 2), length kept; bank card first 6 + last 4; address up to
the district (区/县), else its first 6 characters, then `****`. A full value is only shown
through `reveal` (in `postloan.access.reveal`, re-exported here).
"""

from __future__ import annotations

from typing import Any

from postloan.access.reveal import REVEALABLE_FIELDS, reveal
from postloan.access.roles import Role

MASK = "*"
ADDRESS_TAIL = "****"
ADDRESS_FALLBACK_CHARS = 6
CARD_FIELDS = ("card_number", "card_no", "bank_card", "bank_account")

__all__ = [
    "REVEALABLE_FIELDS",
    "mask_address",
    "mask_card",
    "mask_customer",
    "mask_id_number",
    "mask_mobile",
    "reveal",
]


def _keep(value: str, head: int, tail: int) -> str:
    """`head` first and `tail` last characters, the rest `*`; too short → all `*`."""
    if len(value) <= head + tail:
        return MASK * len(value)
    return value[:head] + MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_mobile(value: str) -> str:
    return _keep(value, 3, 4)


def mask_id_number(value: str, role: Role | str | None = None) -> str:
    if role is not None and Role(role) == Role.COLLECTOR:
        return _keep(value, 3, 2)
    return _keep(value, 6, 4)


def mask_card(value: str) -> str:
    return _keep(value, 6, 4)


def mask_address(value: str) -> str:
    """Keep the province/city/district prefix: up to and including the first 区 or 县 (a
    province-level 自治区 does not count), else the first 6 characters."""
    end = None
    for index, char in enumerate(value):
        if char == "县" or (char == "区" and not value[: index + 1].endswith("自治区")):
            end = index + 1
            break
    if end is None:
        end = min(ADDRESS_FALLBACK_CHARS, len(value))
    return value[:end] + ADDRESS_TAIL


_MASKERS = {"phone": mask_mobile, "mobile": mask_mobile, "address": mask_address}


def mask_customer(record: dict[str, Any], role: Role | str) -> dict[str, Any]:
    """A copy of a customer record with every personal field masked for `role`."""
    masked = dict(record)
    for field, value in record.items():
        if value is None or not isinstance(value, str):
            continue
        if field == "id_number":
            masked[field] = mask_id_number(value, role)
        elif field in _MASKERS:
            masked[field] = _MASKERS[field](value)
        elif field in CARD_FIELDS:
            masked[field] = mask_card(value)
    return masked
