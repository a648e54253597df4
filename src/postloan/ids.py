"""Identity checks shared by the import and the synthetic generator.

- PRC resident ID (GB 11643, ISO 7064 MOD 11-2): 17 digits — 6-digit area code, 8-digit birth
  date `YYYYMMDD`, 3-digit sequence (odd = male) — then a check digit `0-9` or `X`.
- Mobile numbers: PRC `1[3-9]` + 9 digits, or E.164 (`+`, country code, 8-15 digits in all).
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

# Weight of digit i is 2^(17 - i) mod 11 (i = 0..16); check = CHECK_CHARS[sum mod 11].
PRC_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

_PRC_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_SEVENTEEN_DIGITS = re.compile(r"[0-9]{17}")


def prc_id_check_digit(first17: str) -> str:
    """The GB 11643 check character ("0"-"9" or "X") of the first 17 digits of a PRC ID."""
    if not _SEVENTEEN_DIGITS.fullmatch(first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(ch) * w for ch, w in zip(first17, PRC_ID_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def prc_id_check_digits(digits: npt.NDArray[np.integer]) -> npt.NDArray[np.str_]:
    """Vectorised check characters: `digits` is an (n, 17) integer array of the first 17 digits."""
    weights = np.asarray(PRC_ID_WEIGHTS, dtype=np.int64)
    total = digits.astype(np.int64) @ weights
    return np.asarray(list(CHECK_CHARS))[total % 11]


def is_valid_prc_id(s: object) -> bool:
    """18 characters: 17 digits with a real birth date (digits 7-14), then the check character.

    The check character must be an upper-case `X` when it is 10 (normalise before calling if
    your source writes `x`). Birth years outside 1800-2099 are refused.
    """
    if not isinstance(s, str) or len(s) != 18:
        return False
    first17, check = s[:17], s[17]
    if not _SEVENTEEN_DIGITS.fullmatch(first17):
        return False
    year, month, day = int(s[6:10]), int(s[10:12]), int(s[12:14])
    if not 1800 <= year <= 2099:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return prc_id_check_digit(first17) == check


def is_valid_mobile(s: object) -> bool:
    """A PRC mobile (`1[3-9]` + 9 digits) or an E.164 number (`+` and 8-15 digits)."""
    if not isinstance(s, str):
        return False
    return bool(_PRC_MOBILE.fullmatch(s) or _E164.fullmatch(s))


def valid_prc_ids(ids: pl.Series) -> pl.Series:
    """Vectorised `is_valid_prc_id` over a string column (null -> False)."""
    text = ids.cast(pl.String)
    shaped = text.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False)
    safe = pl.select(pl.when(pl.lit(shaped)).then(pl.lit(text)).otherwise(pl.lit("0" * 18)))
    frame = safe.to_series().to_frame("id")
    year = pl.col("id").str.slice(6, 4).cast(pl.Int32)
    born = pl.col("id").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    total = pl.sum_horizontal(
        pl.col("id").str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(PRC_ID_WEIGHTS)
    )
    expected = pl.lit(pl.Series(list(CHECK_CHARS))).gather(total % 11)
    checks = frame.select(
        (born.is_not_null() & year.is_between(1800, 2099)).alias("born"),
        (pl.col("id").str.slice(17, 1) == expected).alias("check"),
    )
    return (pl.Series(shaped) & checks["born"] & checks["check"]).alias(ids.name)


def valid_mobiles(phones: pl.Series) -> pl.Series:
    """Vectorised `is_valid_mobile` (null -> False)."""
    pattern = f"^(?:{_PRC_MOBILE.pattern}|{_E164.pattern})$"
    return phones.cast(pl.String).str.contains(pattern).fill_null(False)
