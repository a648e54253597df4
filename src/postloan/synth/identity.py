"""Plausible personal identity data, vectorised: Chinese names, PRC IDs, mobiles, addresses."""

from __future__ import annotations

import numpy as np
import polars as pl

from postloan.ids import prc_id_check_digits
from postloan.synth.tables import (
    AREAS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    MOBILE_PREFIXES,
    STREETS,
    SURNAMES,
)
from postloan.synth.util import BoolArray, IntArray, choice, lookup

_AREA_DIGITS = np.array([[int(c) for c in code] for code, *_ in AREAS], dtype=np.int64)


def names(rng: np.random.Generator, male: BoolArray) -> pl.Series:
    """Surname (by frequency) + one or two given-name characters matching the gender."""
    n = len(male)
    surname = lookup([s for s, _ in SURNAMES], choice(rng, [w for _, w in SURNAMES], n), "s")
    m, f = len(GIVEN_MALE), len(GIVEN_FEMALE)
    first = np.where(male, rng.integers(0, m, n), m + rng.integers(0, f, n))
    second = np.where(male, rng.integers(0, m, n), m + rng.integers(0, f, n))
    chars = [*GIVEN_MALE, *GIVEN_FEMALE]
    frame = pl.DataFrame(
        {
            "s": surname,
            "g1": lookup(chars, first, "g1"),
            "g2": lookup(chars, second, "g2"),
            "two": rng.random(n) < 0.7,
        }
    )
    given2 = pl.when(pl.col("two")).then(pl.col("g2")).otherwise(pl.lit(""))
    return frame.select(pl.concat_str("s", "g1", given2).alias("name")).to_series()


def prc_ids(
    rng: np.random.Generator, area: IntArray, birth_days: IntArray, male: BoolArray
) -> pl.Series:
    """Unique 18-character PRC IDs: area code, birth date, sequence of the gender's parity, check.

    Collisions (same area, birth date and sequence) are redrawn until every ID is unique.
    """
    n = len(area)
    birth = birth_days.astype("datetime64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    ymd = year * 10_000 + month * 100 + day
    head = np.empty((n, 14), dtype=np.int64)
    head[:, :6] = _AREA_DIGITS[area]
    for i in range(8):
        head[:, 6 + i] = (ymd // 10 ** (7 - i)) % 10
    prefix = pl.select(
        pl.concat_str(
            lookup([code for code, *_ in AREAS], area, "a"),
            pl.lit(pl.Series(ymd).cast(pl.String)),
        )
    ).to_series()

    seq = _sequence(rng, male, n)
    while True:
        digits = np.concatenate(
            [head, (seq // 100 % 10)[:, None], (seq // 10 % 10)[:, None], (seq % 10)[:, None]],
            axis=1,
        )
        check = pl.Series(prc_id_check_digits(digits).astype(str))
        result = pl.select(
            pl.concat_str(
                pl.lit(prefix), pl.lit(pl.Series(seq).cast(pl.String).str.zfill(3)), pl.lit(check)
            )
        ).to_series()
        dup = result.is_duplicated() & ~result.is_first_distinct()
        todo = np.flatnonzero(dup.to_numpy())
        if len(todo) == 0:
            return result.alias("id_number")
        seq[todo] = _sequence(rng, male[todo], len(todo))


def _sequence(rng: np.random.Generator, male: BoolArray, n: int) -> IntArray:
    """Three-digit sequence numbers, odd for men and even for women (GB 11643)."""
    seq: IntArray = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    return seq


def mobiles(rng: np.random.Generator, n: int) -> pl.Series:
    """Unique PRC mobile numbers: a carrier segment + 8 digits."""
    prefix = rng.integers(0, len(MOBILE_PREFIXES), n)
    body = rng.integers(0, 100_000_000, n)
    while True:
        number = pl.select(
            pl.concat_str(
                lookup(MOBILE_PREFIXES, prefix, "p"),
                pl.lit(pl.Series(body).cast(pl.String).str.zfill(8)),
            )
        ).to_series()
        dup = number.is_duplicated() & ~number.is_first_distinct()
        todo = np.flatnonzero(dup.to_numpy())
        if len(todo) == 0:
            return number.alias("phone")
        body[todo] = rng.integers(0, 100_000_000, len(todo))


def addresses(rng: np.random.Generator, area: IntArray) -> pl.Series:
    """ "<province/city><district><street><n>号<building>栋<unit>单元<room>室"."""
    n = len(area)
    city = lookup([c for _, c, _, _ in AREAS], area, "c")
    district = lookup([d for _, _, d, _ in AREAS], area, "d")
    street = lookup(STREETS, rng.integers(0, len(STREETS), n), "s")
    number = pl.Series(rng.integers(1, 400, n)).cast(pl.String)
    building = pl.Series(rng.integers(1, 30, n)).cast(pl.String)
    unit = pl.Series(rng.integers(1, 5, n)).cast(pl.String)
    room = pl.Series(rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n)).cast(pl.String)
    return (
        pl.select(
            pl.concat_str(
                pl.lit(city),
                pl.lit(district),
                pl.lit(street),
                pl.lit(number),
                pl.lit("号"),
                pl.lit(building),
                pl.lit("栋"),
                pl.lit(unit),
                pl.lit("单元"),
                pl.lit(room),
                pl.lit("室"),
            )
        )
        .to_series()
        .alias("address")
    )
