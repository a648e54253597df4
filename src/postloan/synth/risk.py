"""Early-warning paths (SPEC EW-1): events that make every default signal of the policy's
catalogue fire somewhere in a demo portfolio near its as_of date.

The accounts already give the overdue, debt, score and income signals (late and defaulting
behaviours, income drops before defaults, the industry mix) and `events` gives lawsuits and
asset transfers tied to old defaults. What a fresh demo lacks is *recent* non-financial and
legal signs among customers still paying, which is where a warning earns its keep. So, drawn
after every other event (a seed's accounts, payments and earlier events stay as they were),
among customers with an account:

- `REPEATED_COMPLAINTS` of them complain twice within the last `RECENT_DAYS` (signal
  `complaints`: two in 90 days);
- `RECENT_LAWSUIT` are sued by another creditor within the last `RECENT_DAYS` (`lawsuit`);
- `RECENT_ASSET_TRANSFER` transfer an asset within the last `RECENT_DAYS` (`asset_transfer`).

Broken promises come from collections' work (recorded contacts), not from contract files.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from postloan.synth.events import EventParts
from postloan.synth.util import IntArray, uniform_int

REPEATED_COMPLAINTS = 0.01
RECENT_LAWSUIT = 0.004
RECENT_ASSET_TRANSFER = 0.005
RECENT_DAYS = 60
_COMPLAINTS = ("repeated fee dispute", "complaint about collection calls", "app login failures")
_TRANSFERS = ("property sold", "vehicle transferred", "equity transferred")


def add_warning_paths(rng: np.random.Generator, ev: EventParts, holders: IntArray) -> None:
    """Add the events of the module docstring to `ev` (`holders`: customer indices with an
    account, duplicates allowed)."""
    who = np.unique(holders)

    def pick(share: float) -> IntArray:
        return who[rng.random(len(who)) < share]

    def texts(options: tuple[str, ...], n: int) -> pl.Series:
        return pl.Series("detail", [options[i] for i in rng.integers(0, len(options), n)])

    def recent(n: int) -> IntArray:
        return ev.as_of - uniform_int(rng, 0, RECENT_DAYS, n)

    twice = pick(REPEATED_COMPLAINTS)
    for _ in range(2):
        ev.add("complaint", twice, recent(len(twice)), texts(_COMPLAINTS, len(twice)))
    sued = pick(RECENT_LAWSUIT)
    ev.add("lawsuit", sued, recent(len(sued)),
           pl.repeat("sued by another creditor", len(sued), eager=True))  # fmt: skip
    moved = pick(RECENT_ASSET_TRANSFER)
    ev.add("asset_transfer", moved, recent(len(moved)), texts(_TRANSFERS, len(moved)))
