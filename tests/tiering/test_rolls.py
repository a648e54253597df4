"""Roll rates and loss rates per tier and month (LY-4 review, second part): on a hand-built
history with hand-computed figures, and against a plain per-customer recomputation on random
histories."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.tiering.rules.review import losses, rolls

J31, F28, M31 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
J15 = date(2026, 1, 15)
BUCKETS = [("current", 0), ("M1", 1), ("M2", 31), ("M3+", 61)]
TYPES = {"as_of": pl.Date, "customer_id": pl.String, "tier": pl.String, "balance": pl.Int64,
         "max_dpd": pl.Int64, "worst_class": pl.String}  # fmt: skip
HISTORY = pl.DataFrame(
    [
        (J15, "A", "high", 100, 90, "loss"),  # not a month's last date: never a cohort
        (J31, "A", "premium", 100, 0, "normal"), (J31, "B", "low", 200, 0, "normal"),
        (J31, "C", "medium", 300, 10, "special_mention"), (J31, "D", "high", 400, 40, "normal"),
        (J31, "E", "high", 500, 70, "doubtful"),
        (F28, "A", "premium", 100, 5, "normal"), (F28, "B", "low", 200, 0, "normal"),
        (F28, "C", "high", 300, 45, "substandard"), (F28, "E", "high", 500, 100, "loss"),
        (M31, "A", "premium", 100, 0, "normal"), (M31, "B", "low", 200, 0, "normal"),
        (M31, "C", "high", 300, 45, "loss"), (M31, "E", "high", 500, 130, "loss"),
    ],
    schema=TYPES, orient="row",
)  # fmt: skip


def test_roll_rates_by_hand() -> None:
    got = {(r["month"], r["tier"], r["bucket"]): (r["customers"], r["balance"],
                                                  r["rolled_balance"], r["roll_rate"])
           for r in rolls(HISTORY, BUCKETS).to_dicts()}  # fmt: skip
    assert got == {
        # January → February: A current → M1 (rolled); B stays current; C M1 → M2 (rolled);
        # D not tiered on Feb 28 (paid off or closed: not rolled); E in the last bucket: none
        ("2026-01", "premium", "current"): (1, 100, 100, 1.0),
        ("2026-01", "low", "current"): (1, 200, 0, 0.0),
        ("2026-01", "medium", "M1"): (1, 300, 300, 1.0),
        ("2026-01", "high", "M2"): (1, 400, 0, 0.0),
        # February → March: A cures, B stays, C stays in M2
        ("2026-02", "premium", "M1"): (1, 100, 0, 0.0),
        ("2026-02", "low", "current"): (1, 200, 0, 0.0),
        ("2026-02", "high", "M2"): (1, 300, 0, 0.0),
        # March: the last month, nothing to look forward to
        ("2026-03", "premium", "current"): (1, 100, 0, None),
        ("2026-03", "low", "current"): (1, 200, 0, None),
        ("2026-03", "high", "M2"): (1, 300, 0, None),
    }


def test_loss_rates_by_hand() -> None:
    got = {(r["month"], r["tier"]): (r["customers"], r["balance"], r["loss_balance"],
                                     r["loss_rate"])
           for r in losses(HISTORY).to_dicts()}  # fmt: skip
    assert got == {
        ("2026-01", "premium"): (1, 100, 0, 0.0),
        ("2026-01", "low"): (1, 200, 0, 0.0),
        ("2026-01", "medium"): (1, 300, 0, 0.0),
        # E reaches the loss class on Feb 28 (doubtful on Jan 31): 500 of 900
        ("2026-01", "high"): (2, 900, 500, pytest.approx(500 / 900)),
        ("2026-02", "premium"): (1, 100, 0, 0.0),
        ("2026-02", "low"): (1, 200, 0, 0.0),
        # C reaches it on Mar 31; E was already lost on Feb 28: not a new loss
        ("2026-02", "high"): (2, 800, 300, pytest.approx(300 / 800)),
        ("2026-03", "premium"): (1, 100, 0, None),
        ("2026-03", "low"): (1, 200, 0, None),
        ("2026-03", "high"): (2, 800, 0, None),
    }


def test_loss_rates_with_a_write_off_by_hand() -> None:
    """B (low risk) has an account written off effective Feb 20, in the class it was in
    (normal here: a write-off is the lender's decision, whatever the DPD); on Feb 28 that
    account's 150 is still in B's status rows but out of the pool. A was written off before
    the window (Jan 10): lost already, out of the pool for its whole 100, never a new loss."""
    removed = pl.DataFrame(
        [(F28, "B", 150), (M31, "B", 150), (J15, "A", 100), (J31, "A", 100), (F28, "A", 100),
         (M31, "A", 100)],
        schema={"as_of": pl.Date, "customer_id": pl.String, "removed_balance": pl.Int64},
        orient="row",
    )  # fmt: skip
    history = HISTORY.join(removed, on=["as_of", "customer_id"], how="left")
    disposed = pl.DataFrame({"customer_id": ["B", "A"],
                             "disposed_on": [date(2026, 2, 20), date(2026, 1, 10)]})  # fmt: skip
    got = {(r["month"], r["tier"]): (r["customers"], r["balance"], r["removed_balance"],
                                     r["loss_balance"], r["written_off_balance"], r["loss_rate"])
           for r in losses(history, disposed).to_dicts()}  # fmt: skip
    assert got == {
        # A: all of its 100 out of the pool on Jan 31 and lost already: 0 in the pool
        ("2026-01", "premium"): (1, 0, 100, 0, 0, None),
        # B: written off in February, its whole pool balance on Jan 31 (200) is the loss
        ("2026-01", "low"): (1, 200, 0, 200, 200, 1.0),
        ("2026-01", "medium"): (1, 300, 0, 0, 0, 0.0),
        ("2026-01", "high"): (2, 900, 0, 500, 0, pytest.approx(500 / 900)),
        ("2026-02", "premium"): (1, 0, 100, 0, 0, None),
        # B on Feb 28: 150 out of the pool, 50 left; lost already (no new loss in March)
        ("2026-02", "low"): (1, 50, 150, 0, 0, 0.0),
        ("2026-02", "high"): (2, 800, 0, 300, 0, pytest.approx(300 / 800)),
        ("2026-03", "premium"): (1, 0, 100, 0, 0, None),
        ("2026-03", "low"): (1, 50, 150, 0, 0, None),
        ("2026-03", "high"): (2, 800, 0, 0, 0, None),
    }
    # without the write-offs, B's month is no loss and its balance all in the pool
    plain = {(r["month"], r["tier"]): r for r in losses(HISTORY).to_dicts()}
    assert plain[("2026-01", "low")]["loss_balance"] == 0
    assert plain[("2026-02", "low")]["balance"] == 200


def test_empty() -> None:
    assert rolls(HISTORY.clear(), BUCKETS).height == 0 and losses(HISTORY.clear()).height == 0


def plain(
    history: list[dict[str, Any]], disposed: dict[str, date] | None = None
) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Rolls and losses by hand: loops over the month ends and customers. `disposed`: each
    customer's first write-off date; a row's `removed_balance` (if any) is out of the pool."""
    disposed = disposed or {}
    days = sorted({r["as_of"] for r in history})
    ends = {}
    for d in days:
        ends[d.strftime("%Y-%m")] = d  # sorted: the month's last date wins
    months = sorted(ends)
    on = {(r["as_of"], r["customer_id"]): r for r in history}

    def bucket(dpd: int) -> int:
        return max(i for i, (_, low) in enumerate(BUCKETS) if dpd >= low)

    def lost(row: dict[str, Any] | None, customer: str, day: date) -> bool:
        gone = disposed.get(customer)
        return (row is not None and row["worst_class"] == "loss") or (
            gone is not None and gone <= day)  # fmt: skip

    roll: dict[Any, list[int]] = {}
    loss: dict[Any, list[int]] = {}
    for i, m in enumerate(months):
        d = ends[m]
        nxt = ends[months[i + 1]] if i + 1 < len(months) else None
        for r in history:
            if r["as_of"] != d:
                continue
            later = on.get((nxt, r["customer_id"])) if nxt else None
            b = bucket(r["max_dpd"])
            if b < len(BUCKETS) - 1:
                cell = roll.setdefault((m, r["tier"], BUCKETS[b][0]), [0, 0, 0])
                cell[0] += 1
                cell[1] += r["balance"]
                if later is not None and bucket(later["max_dpd"]) > b:
                    cell[2] += r["balance"]
            out = r.get("removed_balance") or 0
            pool = r["balance"] - out
            cell = loss.setdefault((m, r["tier"]), [0, 0, 0, 0, 0])
            cell[0] += 1
            cell[1] += pool
            cell[2] += out
            if nxt is not None and lost(later, r["customer_id"], nxt) \
                    and not lost(r, r["customer_id"], d):  # fmt: skip
                cell[3] += pool
                if disposed.get(r["customer_id"], nxt) > d and disposed.get(
                        r["customer_id"], date.max) <= nxt:  # fmt: skip
                    cell[4] += pool
    last = months[-1] if months else None

    def rate(m: str, part: int, whole: int) -> float | None:
        return None if m == last or whole == 0 else part / whole

    return ({k: (*v, rate(k[0], v[2], v[1])) for k, v in roll.items()},
            {k: (*v, rate(k[0], v[3], v[1])) for k, v in loss.items()})  # fmt: skip


rows = st.lists(
    st.tuples(
        st.sampled_from([J15, J31, F28, date(2026, 2, 10), M31, date(2026, 5, 31)]),
        st.sampled_from(["A", "B", "C", "D", "E"]),
        st.sampled_from(["premium", "low", "medium", "high"]),
        st.sampled_from([0, 0, 100, 250]),
        st.sampled_from([0, 0, 1, 30, 31, 60, 61, 400]),
        st.sampled_from(["normal", "substandard", "loss"]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    rows,
    st.dictionaries(
        st.sampled_from(["A", "B", "C", "D", "E"]),
        st.sampled_from([J15, J31, date(2026, 2, 10), F28, M31, date(2026, 4, 30)]),
    ),
    st.dictionaries(st.sampled_from(["A", "B", "C", "D", "E"]), st.sampled_from([0, 50, 100])),
)
def test_against_the_plain_recomputation(
    drawn: list[tuple[Any, ...]], disposed: dict[str, date], out: dict[str, int]
) -> None:
    unique = {(r[0], r[1]): r for r in drawn}  # one row per customer and date
    history = pl.DataFrame(list(unique.values()), schema=TYPES, orient="row")
    # what is out of the pool on a date: at most the balance, only once the customer is disposed
    history = history.with_columns(
        pl.struct("as_of", "customer_id", "balance").map_elements(
            lambda r: min(out.get(r["customer_id"], 0), r["balance"])
            if r["customer_id"] in disposed and disposed[r["customer_id"]] <= r["as_of"] else 0,
            return_dtype=pl.Int64).alias("removed_balance"))  # fmt: skip
    frame = pl.DataFrame({"customer_id": list(disposed), "disposed_on": list(disposed.values())},
                         schema={"customer_id": pl.String, "disposed_on": pl.Date})  # fmt: skip
    want_rolls, want_losses = plain(history.to_dicts(), disposed)
    got_rolls = {(r["month"], r["tier"], r["bucket"]): (r["customers"], r["balance"],
                                                        r["rolled_balance"], r["roll_rate"])
                 for r in rolls(history, BUCKETS).to_dicts()}  # fmt: skip
    got_losses = {(r["month"], r["tier"]): (r["customers"], r["balance"], r["removed_balance"],
                                            r["loss_balance"], r["written_off_balance"],
                                            r["loss_rate"])
                  for r in losses(history, frame).to_dicts()}  # fmt: skip
    assert got_rolls == want_rolls  # the same int ÷ int: exactly equal floats
    assert got_losses == want_losses
