"""Rules that tie several policy settings together.

Each function returns ``(path, reason)`` pairs, the path relative to the model that calls it;
`errors.rule_error` turns them into one validation error and the loader into `Problem`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from postloan.policy.errors import Loc

if TYPE_CHECKING:
    from postloan.policy.model import ClassFloors, Collections, Contact, DpdBucket

Found = list[tuple[Loc, str]]

_FLOOR_ORDER = ("special_mention", "substandard", "doubtful", "loss")


def floor_problems(floors: ClassFloors) -> Found:
    """Class floors must rise strictly: special_mention < substandard < doubtful < loss."""
    found: Found = []
    for lower, higher in pairwise(_FLOOR_ORDER):
        low, high = getattr(floors, lower), getattr(floors, higher)
        if high <= low:
            found.append(((higher,), f"must be greater than {lower} ({low}), got {high}"))
    return found


def bucket_problems(buckets: Sequence[DpdBucket]) -> Found:
    """Buckets start at 0, follow each other without gap or overlap, and only the last is open."""
    if not buckets:
        return [(("dpd_buckets",), "at least one bucket is needed")]
    found: Found = []
    seen: dict[str, int] = {}
    for i, bucket in enumerate(buckets):
        if bucket.name in seen:
            found.append(
                (("dpd_buckets", i, "name"), f"duplicate of dpd_buckets[{seen[bucket.name]}]")
            )
        seen.setdefault(bucket.name, i)
    if buckets[0].min_dpd != 0:
        found.append((("dpd_buckets", 0, "min_dpd"), f"must be 0, got {buckets[0].min_dpd}"))
    last = len(buckets) - 1
    for i, bucket in enumerate(buckets):
        if bucket.max_dpd is not None and bucket.max_dpd < bucket.min_dpd:
            found.append((("dpd_buckets", i, "max_dpd"), f"must be >= min_dpd ({bucket.min_dpd})"))
        if bucket.max_dpd is None and i != last:
            found.append(
                (
                    ("dpd_buckets", i, "max_dpd"),
                    f"bucket '{bucket.name}' is open-ended but is not the last bucket",
                )
            )
        if i == 0:
            continue
        previous = buckets[i - 1]
        if previous.max_dpd is None:
            continue  # already reported as an open-ended bucket that is not last
        expected = previous.max_dpd + 1
        if bucket.min_dpd < expected:
            found.append(
                (
                    ("dpd_buckets", i, "min_dpd"),
                    f"overlaps bucket '{previous.name}' (which ends at {previous.max_dpd}); "
                    f"must be {expected}, got {bucket.min_dpd}",
                )
            )
        elif bucket.min_dpd > expected:
            found.append(
                (
                    ("dpd_buckets", i, "min_dpd"),
                    f"gap after bucket '{previous.name}' (which ends at {previous.max_dpd}): "
                    f"DPD {expected}-{bucket.min_dpd - 1} fall in no bucket; must be {expected}",
                )
            )
    if buckets[last].max_dpd is not None:
        found.append(
            (
                ("dpd_buckets", last, "max_dpd"),
                "the last bucket must be open-ended (omit max_dpd) so every DPD has a bucket",
            )
        )
    return found


def collection_problems(collections: Collections, bucket_names: Sequence[str]) -> Found:
    """Per-bucket settings name existing buckets, and every bucket has one."""
    found: Found = []
    known = ", ".join(bucket_names)
    for field in ("stages", "min_contacts_per_week"):
        per_bucket: dict[str, object] = getattr(collections, field)
        for name in per_bucket:
            if name not in bucket_names:
                found.append(
                    (("collections", field, name), f"no DPD bucket named '{name}' (have: {known})")
                )
        missing = [name for name in bucket_names if name not in per_bucket]
        if missing:
            found.append((("collections", field), f"no value for bucket(s) {', '.join(missing)}"))
    return found


def contact_capacity_problems(collections: Collections, contact: Contact) -> Found:
    """A bucket's minimum contact frequency must fit the weekly call caps of every jurisdiction."""
    found: Found = []
    for name, minimum in collections.min_contacts_per_week.items():
        for code in sorted(contact.jurisdictions):
            rules = contact.jurisdictions[code]
            capacity = rules.weekly_call_capacity
            if capacity is None or minimum <= capacity:
                continue
            cap_name = rules.weekly_capacity_parameter()
            cap_value = getattr(rules, cap_name or "")
            how = f"{cap_value} x 7 days = {capacity}" if cap_value != capacity else f"{capacity}"
            found.append(
                (
                    ("collections", "min_contacts_per_week", name),
                    f"{minimum} contacts a week exceed the cap "
                    f"contact.jurisdictions.{code}.{cap_name} ({how} a week)",
                )
            )
    return found
