"""Tasks and the watch list from signal hits (EW-1), over whole frames.

- A task opens when a customer hits a signal on a stored date and did not hit it on the
  stored date before (one task per run of consecutive hits, not one per day).
- A customer is on the watch list on stored date D when a watch signal hit them on some date
  H ≤ D with D < H + exit_clean_days (the signal's exit criterion); an episode runs over
  consecutive stored dates on the list, and ends on the first stored date off it ("clean":
  every watch signal has been quiet for its exit period).

Both depend only on the hits and the stored dates, so they replay: any order of runs that
ends with the same dates gives the same tasks and episodes.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.policy.risk import Signal

OPENINGS = {"customer_id": pl.String, "signal_id": pl.String, "opened_on": pl.Date}
EPISODES = {"customer_id": pl.String, "entered_on": pl.Date, "left_on": pl.Date,
            "entry_signals": pl.String, "exit_reason": pl.String}  # fmt: skip


def _dated(dates: list[date]) -> pl.DataFrame:
    ordered = sorted(set(dates))
    return pl.DataFrame({"as_of": ordered, "i": list(range(len(ordered)))},
                        schema={"as_of": pl.Date, "i": pl.Int64})  # fmt: skip


def openings(hits: pl.DataFrame, dates: list[date]) -> pl.DataFrame:
    """(customer_id, signal_id, opened_on): where a run of consecutive hits starts."""
    indexed = hits.select("customer_id", "signal_id", "as_of").join(_dated(dates), on="as_of")
    runs = indexed.sort("customer_id", "signal_id", "i").with_columns(
        prev=pl.col("i").shift(1).over("customer_id", "signal_id")
    )
    starts = runs.filter(pl.col("prev").is_null() | (pl.col("prev") != pl.col("i") - 1))
    return starts.select("customer_id", "signal_id", opened_on=pl.col("as_of")).sort(
        "opened_on", "signal_id", "customer_id"
    )


def watch_episodes(hits: pl.DataFrame, signals: list[Signal], dates: list[date]) -> pl.DataFrame:
    """The watch list's episodes (EPISODES) over the stored `dates`; left_on null: still on."""
    exit_days = {s.id: s.exit_clean_days for s in signals if s.watch}
    dated = _dated(dates)
    watched = hits.filter(pl.col("signal_id").is_in(list(exit_days))).with_columns(
        until=pl.col("as_of")
        + pl.duration(days=pl.col("signal_id").replace_strict(exit_days, return_dtype=pl.Int64))
    )
    if watched.is_empty():
        return pl.DataFrame(schema=EPISODES)
    # The furthest cover of the hits so far, per customer; each stored date asks the latest.
    cover = (
        watched.group_by("customer_id", "as_of").agg(pl.col("until").max())
        .sort("customer_id", "as_of")
        .with_columns(until=pl.col("until").cum_max().over("customer_id"))
    )  # fmt: skip
    grid = (
        watched.select("customer_id").unique().join(dated, how="cross").sort("customer_id", "as_of")
    )
    state = grid.join_asof(
        cover, on="as_of", by="customer_id", strategy="backward", check_sortedness=False
    ).with_columns(on=pl.col("until").is_not_null() & (pl.col("as_of") < pl.col("until")))
    state = state.with_columns(
        was=pl.col("on").shift(1).over("customer_id").fill_null(False),
    ).with_columns(
        episode=(pl.col("on") & ~pl.col("was")).cast(pl.Int64).cum_sum().over("customer_id")
    )
    entered = state.filter(pl.col("on") & ~pl.col("was")).select(
        "customer_id", "episode", entered_on=pl.col("as_of")
    )
    left = state.filter(~pl.col("on") & pl.col("was")).select(
        "customer_id", "episode", left_on=pl.col("as_of")
    )
    why = (
        watched.select("customer_id", "signal_id", entered_on=pl.col("as_of"))
        .unique().sort("signal_id")
        .group_by("customer_id", "entered_on").agg(pl.col("signal_id").str.join(","))
    )  # fmt: skip
    episodes = entered.join(left, on=["customer_id", "episode"], how="left").join(
        why, on=["customer_id", "entered_on"], how="left"
    )
    return (
        episodes.select(
            "customer_id", "entered_on", "left_on",
            entry_signals=pl.col("signal_id"),
            exit_reason=pl.when(pl.col("left_on").is_not_null()).then(pl.lit("clean")),
        )
        .cast(EPISODES)  # type: ignore[arg-type]
        .sort("customer_id", "entered_on")
    )  # fmt: skip
