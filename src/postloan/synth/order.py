"""Which record gets which id: a plain head, rare events spread over everything after it.

Readers that type a column from the first rows they see (the ADBC SQLite driver uses its first
batch of 1,024 rows) fail only when a column stays empty for a whole batch and is set later.
Generated data whose rare values happened to sit in the first rows of every file hid exactly
that (issue 10: a lender's portfolio with its first reversal at row 1,144 crashed the run; the
demo's first was at row 22). So, in the order each file is read — customers, loans and cards
by id, payments by id and by account, events by id — the first `QUIET_HEAD` records are plain:
no reversal, no closure, no explicit first due date, no account or amount on an event, no
marketing consent date. Every other record keeps its generation order after them, so rare
events stay spread over the rest of the portfolio at their usual rates.

Only ids move: no random draw changes, so a seed gives the same customers, accounts and
behaviours as before, numbered differently. A table no longer than the head keeps generation
order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from postloan.synth.cards import CARD_ID_WIDTH
from postloan.synth.customers import CUSTOMER_ID_WIDTH
from postloan.synth.events import EVENT_ID_WIDTH
from postloan.synth.loans import ACCOUNT_ID_WIDTH
from postloan.synth.payments import PAYMENT_ID_WIDTH

if TYPE_CHECKING:
    from postloan.synth.generate import SyntheticPortfolio

QUIET_HEAD = 1_100  # records; more than the driver's first batch of 1,024 rows


def plain_first(plain: pl.Series) -> pl.Series:
    """Positions (0-based, generation order) in the order they get ids: the first QUIET_HEAD
    plain records, then every other record in generation order."""
    n = plain.len()
    order = np.arange(n, dtype=np.int64)
    if n <= QUIET_HEAD:
        return pl.Series(order)
    head = np.flatnonzero(plain.fill_null(False).to_numpy())[:QUIET_HEAD]
    rest = np.ones(n, dtype=bool)
    rest[head] = False
    return pl.Series(np.concatenate([head, order[rest]]))


@dataclass(frozen=True)
class _Renumbering:
    """New ids for one kind of record whose ids are `prefix` + a `width`-digit counter in
    generation order. `order`: generation positions in new-id order (None: ids unchanged);
    `number`: the new counter (1-based) of each generation position; `fresh`: every new id,
    in order, formatted once."""

    prefix: str
    order: npt.NDArray[np.int64] | None
    number: pl.Series
    fresh: pl.Series

    def frame(self, frame: pl.DataFrame, id_column: str) -> pl.DataFrame:
        """The kind's own frame (rows in generation order) in new-id order, with new ids."""
        if self.order is None:
            return frame
        return frame[self.order].with_columns(self.fresh.alias(id_column))

    def numbers(self, ids: pl.Series) -> pl.Series:
        """The new counters of `ids` (all of this kind; nulls stay null)."""
        return self.number.gather(ids.str.slice(len(self.prefix)).cast(pl.Int64) - 1)

    def ids(self, numbers: pl.Series) -> pl.Series:
        return self.fresh.gather(numbers - 1)

    def relabel(self, ids: pl.Series) -> pl.Series:
        return ids if self.order is None else self.ids(self.numbers(ids)).alias(ids.name)


def _renumber(plain: pl.Series, prefix: str, width: int) -> _Renumbering:
    """Counters handed out again in `plain_first` order."""
    order = plain_first(plain).to_numpy()
    n = len(order)
    number = np.empty(n, dtype=np.int64)
    number[order] = np.arange(1, n + 1)
    fresh = prefix + pl.int_range(1, n + 1, eager=True).cast(pl.String).str.zfill(width)
    same = bool((order == np.arange(n)).all())
    return _Renumbering(prefix, None if same else order, pl.Series(number), fresh)


def quiet_head(sp: SyntheticPortfolio) -> SyntheticPortfolio:
    """The portfolio with its ids handed out plain records first (see the module docstring).
    Each kind's ids must be prefix + counter in generation order, its frame in that order."""
    bounced = sp.payments.filter(pl.col("reverses_payment_id").is_not_null())["account_id"]
    never_bounced = ~pl.col("account_id").is_in(bounced.implode())
    customers = _renumber(sp.customers["consent_date"].is_null(), "CU", CUSTOMER_ID_WIDTH)
    loans = _renumber(
        sp.loans.select(
            pl.col("first_due_date").is_null()
            & (pl.col("behaviour") != "early_payoff")
            & never_bounced
        ).to_series(),
        "L",
        ACCOUNT_ID_WIDTH,
    )
    cards = _renumber(
        sp.cards.select(pl.col("close_date").is_null() & never_bounced).to_series(),
        "C",
        CARD_ID_WIDTH,
    )
    payments = _renumber(sp.payments["reverses_payment_id"].is_null(), "P", PAYMENT_ID_WIDTH)
    events = _renumber(
        sp.events.select(pl.col("account_id").is_null() & pl.col("amount").is_null()).to_series(),
        "E",
        EVENT_ID_WIDTH,
    )

    def account_column(frame: pl.DataFrame) -> pl.Series:
        """An account id column of loans and cards (and nulls), relabelled in place."""
        ids = frame["account_id"]
        loan_rows = ids.str.starts_with(loans.prefix).fill_null(False)
        at_loans, at_cards = loan_rows.arg_true(), (~loan_rows & ids.is_not_null()).arg_true()
        return ids.scatter(at_loans, loans.relabel(ids.gather(at_loans))).scatter(
            at_cards, cards.relabel(ids.gather(at_cards))
        )

    def by_account(frame: pl.DataFrame, kind: _Renumbering, then: str) -> pl.DataFrame:
        """A frame sorted by (account, `then`): account ids relabelled, sorted again."""
        if kind.order is None:
            return frame
        number = kind.numbers(frame["account_id"])
        return (
            frame.with_columns(kind.ids(number).alias("account_id"), number.alias("_n"))
            .sort("_n", then)
            .drop("_n")
        )

    pay = payments.frame(sp.payments, "payment_id")
    ev = events.frame(sp.events, "event_id")
    return replace(
        sp,
        customers=customers.frame(sp.customers, "customer_id"),
        loans=loans.frame(
            sp.loans.with_columns(customers.relabel(sp.loans["customer_id"])), "account_id"
        ),
        cards=cards.frame(
            sp.cards.with_columns(customers.relabel(sp.cards["customer_id"])), "account_id"
        ),
        instalments=by_account(sp.instalments, loans, "period"),
        schedule_overrides=by_account(sp.schedule_overrides, loans, "period"),
        statements=by_account(sp.statements, cards, "statement_date"),
        payments=pay.with_columns(
            payments.relabel(pay["reverses_payment_id"]), account_column(pay)
        ),
        events=ev.with_columns(customers.relabel(ev["customer_id"]), account_column(ev)),
    )
