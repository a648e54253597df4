"""A plain-Python reading of the contract's loan and card semantics, for a handful of accounts.

Deliberately naive (lists and loops, no polars in the arithmetic) so that it checks the
generator independently of the engine.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import polars as pl


def counted_payments(payments: pl.DataFrame, as_of: date) -> dict[str, list[tuple[date, str, int]]]:
    """Per account: (value_date, payment_id, amount) of payments that count as of `as_of`."""
    rows = payments.filter(pl.col("value_date") <= as_of).to_dicts()
    reversed_ids = {r["reverses_payment_id"] for r in rows if r["reverses_payment_id"]}
    out: dict[str, list[tuple[date, str, int]]] = defaultdict(list)
    for r in rows:
        if r["reverses_payment_id"] or r["payment_id"] in reversed_ids:
            continue
        out[r["account_id"]].append((r["value_date"], r["payment_id"], r["amount"]))
    for items in out.values():
        items.sort()
    return out


def instalment_lateness(
    schedule: list[tuple[date, int]], payments: list[tuple[date, str, int]], as_of: date
) -> list[int]:
    """Days late of each instalment (due_date, amount due) due before `as_of`.

    0 = covered on or before its due date; n > 0 = covered n days late or still unpaid n days
    after it fell due. Instalments not yet due are left out.
    """
    out: list[int] = []
    pending = list(payments)
    paid = end = 0
    last_date: date | None = None
    for due, amount in schedule:
        end += amount
        while paid < end and pending:
            last_date, _, money = pending.pop(0)
            paid += money
        if due >= as_of:
            break
        if amount == 0:
            out.append(0)  # nothing due: covered on its due date
        elif paid >= end:
            assert last_date is not None  # the payment that crossed this instalment's end
            out.append(max(0, (last_date - due).days))
        else:
            out.append((as_of - due).days)
    return out


def statement_lateness(
    statements: list[tuple[date, date, int]], payments: list[tuple[date, str, int]], as_of: date
) -> list[int]:
    """Days late of each card statement (statement_date, due_date, minimum_due) due before as_of.

    A payment goes to the unpaid minimums of statements issued on or before its value date,
    oldest first; what is left over is not carried to later minimums.
    """
    unpaid = [minimum for _, _, minimum in statements]
    completed: list[date | None] = [None] * len(statements)
    for value_date, _, amount in payments:
        money = amount
        for i, (issued, _, _) in enumerate(statements):
            if money == 0 or issued > value_date:
                break
            if unpaid[i] == 0:
                continue
            take = min(money, unpaid[i])
            unpaid[i] -= take
            money -= take
            if unpaid[i] == 0:
                completed[i] = value_date
    out: list[int] = []
    for i, (_, due, minimum) in enumerate(statements):
        if due >= as_of:
            continue
        done = completed[i]
        if minimum == 0:
            out.append(0)
        elif done is not None:
            out.append(max(0, (done - due).days))
        else:
            out.append((as_of - due).days)
    return out


def paid_in_full(statement: tuple[date, date, int], payments: list[tuple[date, str, int]]) -> bool:
    """Payments dated from the statement date to the due date total at least the balance."""
    issued, due, balance = statement
    return sum(a for d, _, a in payments if issued <= d <= due) >= balance
