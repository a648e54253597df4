"""Masking of personal data (PIPL): everybody sees masked values by default.

Formats (docs/shared DOMAIN.md): mobile first 3 + last 4 (`138****5678`); PRC ID first 6 +
last 4 (collectors: first 3 + last 2), length kept; bank card first 6 + last 4; address up to
the district (区/县), else its first 6 characters, then `****`. A full value is only shown
through `reveal` (in `postloan.access.reveal`, re-exported here).

Who sees what — the one place:
- every role that may view customers sees personal fields *masked*; no role sees them in full
  by default (a full value is a reveal: permission, reason, audit entry);
- a role that may not view customers sees *no* personal data (fields withheld).
Columns a lender imports beyond the contract (each table's `extra`) are personal data too,
unless the policy lists them (`security.personal_data.non_personal_extra_columns`): masked
with the mask their value's shape calls for (`mask_value`), withheld from roles without
personal data. Search follows the same rule (`visible_ends`, views.customer_search): a role
may only match on the characters its mask shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from importlib import import_module
from typing import Any

from postloan.access.permissions import Action, can
from postloan.access.roles import Role
from postloan.ids import is_valid_prc_id

MASK = "*"
ADDRESS_TAIL = "****"
ADDRESS_FALLBACK_CHARS = 6
CARD_FIELDS = ("card_number", "card_no", "bank_card", "bank_account")
# An arbitrary value keeps its first character, then a fixed `****` (its length is not told);
# values shorter than this are all `****` (a first character would give most of them away).
GENERIC_KEEP_FROM = 4
GENERIC_TAIL = "****"

# (first, last) characters shown; the middle is `*`, the length kept.
MOBILE_ENDS = (3, 4)
ID_ENDS = (6, 4)
COLLECTOR_ID_ENDS = (3, 2)
CARD_ENDS = (6, 4)

__all__ = [
    "mask_address",
    "mask_card",
    "mask_customer",
    "mask_extra",
    "mask_id_number",
    "mask_mobile",
    "mask_value",
    "parse_extra",
    "sees_personal_data",
    "visible_ends",
]


def sees_personal_data(role: Role | str) -> bool:
    """True when `role` sees personal fields (masked); False when they are withheld."""
    return can(role, Action.CUSTOMER_VIEW)


def visible_ends(field: str, role: Role | str) -> tuple[int, int] | None:
    """How many leading and trailing characters of `field` the role's mask shows; None when
    the field shows no exact characters at either end (withheld, or an address: its kept
    prefix depends on the value). A search may match only these characters."""
    if not sees_personal_data(role):
        return None
    if field in ("phone", "mobile"):
        return MOBILE_ENDS
    if field == "id_number":
        return COLLECTOR_ID_ENDS if Role(role) == Role.COLLECTOR else ID_ENDS
    if field in CARD_FIELDS:
        return CARD_ENDS
    return None


def _keep(value: str, ends: tuple[int, int]) -> str:
    """The `head` first and `tail` last characters, the rest `*`; too short → all `*`."""
    head, tail = ends
    if len(value) <= head + tail:
        return MASK * len(value)
    return value[:head] + MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_mobile(value: str) -> str:
    return _keep(value, MOBILE_ENDS)


def mask_id_number(value: str, role: Role | str | None = None) -> str:
    if role is not None and Role(role) == Role.COLLECTOR:
        return _keep(value, COLLECTOR_ID_ENDS)
    return _keep(value, ID_ENDS)


def mask_card(value: str) -> str:
    return _keep(value, CARD_ENDS)


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


_CARD_DIGITS = re.compile(r"[0-9]{16,19}")
_PHONE_LIKE = re.compile(r"\+?[0-9]{7,15}")


def mask_value(value: str, role: Role | str) -> str:
    """An arbitrary personal value (an imported extra column) masked by its shape: a PRC ID
    number, bank card or phone number gets its usual mask; anything else its first character
    and `****` (`****` alone when shorter than 4 characters)."""
    text = value.strip()
    if is_valid_prc_id(text.upper()):
        return mask_id_number(text.upper(), role)
    if _CARD_DIGITS.fullmatch(text):
        return mask_card(text)
    if _PHONE_LIKE.fullmatch(text):
        return mask_mobile(text)
    if len(text) < GENERIC_KEEP_FROM:
        return GENERIC_TAIL
    return text[0] + GENERIC_TAIL


def parse_extra(extra: Any) -> dict[str, Any] | None:
    """A stored `extra` (JSON text of an object) as a dict; text that is not a JSON object
    is kept whole under "raw" / "value" (and masked like any other column)."""
    if extra is None or isinstance(extra, dict):
        return extra
    try:
        parsed = json.loads(extra)
    except (TypeError, ValueError):
        return {"raw": str(extra)}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def mask_extra(
    extra: Mapping[str, Any] | None, role: Role | str, non_personal: Collection[str] = ()
) -> dict[str, Any] | None:
    """Imported extra columns as `role` may see them: the policy's non-personal columns in
    full; the others masked (`mask_value`), or left out for a role without personal data."""
    if extra is None:
        return None
    shown = sees_personal_data(role)
    out: dict[str, Any] = {}
    for column, value in extra.items():
        if column in non_personal:
            out[column] = value
        elif not shown:
            continue
        elif value is None or value == "":
            out[column] = value  # nothing to hide
        else:
            out[column] = mask_value(value if isinstance(value, str) else str(value), role)
    return out


_MASKERS = {"phone": mask_mobile, "mobile": mask_mobile, "address": mask_address}
PERSONAL_FIELDS = frozenset(("id_number", *_MASKERS, *CARD_FIELDS))


def mask_customer(
    record: Mapping[str, Any], role: Role | str, non_personal_extra: Collection[str] = ()
) -> dict[str, Any]:
    """A copy of a customer record with every personal field masked for `role` (withheld —
    None — for a role without personal data); `extra` (dict or stored JSON text) through
    `mask_extra` with the policy's non-personal customer columns."""
    masked = dict(record)
    shown = sees_personal_data(role)
    for field, value in record.items():
        if field == "extra":
            masked[field] = mask_extra(parse_extra(value), role, non_personal_extra)
            continue
        if value is None or not isinstance(value, str) or field not in PERSONAL_FIELDS:
            continue
        if not shown:
            masked[field] = None
        elif field == "id_number":
            masked[field] = mask_id_number(value, role)
        elif field in _MASKERS:
            masked[field] = _MASKERS[field](value)
        else:
            masked[field] = mask_card(value)
    return masked


def __getattr__(name: str) -> Any:
    """`reveal` and `REVEALABLE_FIELDS` re-exported from `postloan.access.reveal`, looked up
    when asked for: that module uses the masks above, so importing it here would be a cycle."""
    if name in ("reveal", "REVEALABLE_FIELDS"):
        return getattr(import_module("postloan.access.reveal"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
