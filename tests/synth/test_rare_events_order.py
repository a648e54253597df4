"""Rare events never sit in the first rows a reader sees, and are spread over the rest
(issue 10: the generator's data had a reversal at row 22 and hid a reader that typed its
columns from the first 1,024 rows)."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from postloan.synth import SyntheticPortfolio
from postloan.synth.events import EVENT_TYPES
from postloan.synth.order import QUIET_HEAD, plain_first, quiet_head

BATCH = 1_024


def _first_set(frame: pl.DataFrame, order: list[str], column: str) -> int:
    """Row (0-based, in `order`) of the first non-null value of `column`."""
    return int(frame.sort(order)[column].is_not_null().arg_true()[0])


def test_rare_values_come_after_the_first_batch_of_every_read(sp10k: SyntheticPortfolio) -> None:
    reads = [
        (sp10k.payments, ["account_id", "value_date"], "reverses_payment_id"),  # the run
        (sp10k.payments, ["payment_id"], "reverses_payment_id"),  # export, re-import
        (sp10k.cards, ["account_id"], "close_date"),
        (sp10k.loans, ["account_id"], "first_due_date"),
        (sp10k.events, ["event_id"], "account_id"),
        (sp10k.events, ["event_id"], "amount"),
        (sp10k.customers, ["customer_id"], "consent_date"),
    ]
    for frame, order, column in reads:
        assert _first_set(frame, order, column) >= QUIET_HEAD > BATCH, (order, column)


def test_rare_events_are_spread_over_the_rest(sp10k: SyntheticPortfolio) -> None:
    """After the head, every tenth of the payments file has reversals at about the usual rate,
    and every kind of event occurs."""
    rest = sp10k.payments.sort("payment_id")[QUIET_HEAD:]
    tenth = rest.height // 10
    shares = [
        rest[i * tenth : (i + 1) * tenth]["reverses_payment_id"].is_not_null().mean()
        for i in range(10)
    ]
    assert all(0.001 < share < 0.02 for share in shares), shares  # type: ignore[operator]
    events = sp10k.events.sort("event_id")
    assert set(events[QUIET_HEAD:]["type"]) == set(EVENT_TYPES)
    closed = sp10k.cards.sort("account_id")[QUIET_HEAD:]["close_date"]
    halves = closed.len() // 2
    assert closed[:halves].is_not_null().sum() > 0 and closed[halves:].is_not_null().sum() > 0


def test_only_ids_move(sp10k: SyntheticPortfolio) -> None:
    """Handing ids out again is a relabelling: applied to its own output it changes nothing,
    and every reference still points at a record that exists."""
    again = quiet_head(sp10k)
    for name in ("customers", "loans", "cards", "statements", "payments", "events"):
        assert_frame_equal(getattr(again, name), getattr(sp10k, name))
    targets = sp10k.payments.filter(pl.col("reverses_payment_id").is_not_null())
    assert targets["reverses_payment_id"].is_in(sp10k.payments["payment_id"].implode()).all()
    assert sp10k.payments["payment_id"].is_sorted()
    assert sp10k.payments.columns == ["payment_id", "account_id", "value_date", "amount",
                                      "channel", "reverses_payment_id"]  # fmt: skip


def test_plain_first_order() -> None:
    """The first QUIET_HEAD plain records get the first ids, everything else follows in
    generation order; a table no longer than the head keeps generation order."""
    n = 2 * QUIET_HEAD
    plain = pl.Series([i % 3 != 0 for i in range(n)])  # every third record is rare
    order = plain_first(plain).to_list()
    head = [i for i in range(n) if i % 3 != 0][:QUIET_HEAD]
    assert order[:QUIET_HEAD] == head
    assert order[QUIET_HEAD:] == [i for i in range(n) if i not in set(head)]
    short = pl.Series([False, True] * (QUIET_HEAD // 2))
    assert plain_first(short).to_list() == list(range(short.len()))
