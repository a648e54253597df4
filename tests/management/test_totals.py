"""The stored month totals (issue 16 item 7), SQLite and PostgreSQL: a whole-book pack read
from them equals the pack computed from the status, frame by frame, for any period — with
the other areas' rows, collectors and an "ever" definition in play; they are ignored when
they do not cover the history (a month missing) or the policy changed what they depend on;
the step is idempotent and rebuilds from the run's first month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import delete, insert, select, true

from postloan.management import service, totals
from postloan.management.tables import management_month_totals
from postloan.policy.loader import default_policy
from postloan.store import schema
from postloan.store.db import engine_for
from postloan.store.values import stored_date
from tests.management import area_data
from tests.management.conftest import MONTH_ENDS, History

NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def loaded(history: History) -> History:
    area_data.add(history)
    return history


def _store(history: History, first: date, policy: Any = None) -> list[str]:
    engine = engine_for(history.url)
    with engine.begin() as conn:
        written = totals.store_months(conn, policy or default_policy(), first, 2, NOW)
    engine.dispose()
    return written


def _both(history: History, start: date, end: date, policy: Any = None) -> tuple[Any, Any]:
    policy = policy or default_policy()
    engine = engine_for(history.url)
    with engine.connect() as conn:
        stored = totals.load(conn, policy, *_history_and_months(conn, start, end))
        fast = service.build(conn, policy, start, end, true())
        slow = service.build(conn, policy, start, end, true(), use_totals=False)
    engine.dispose()
    return stored, (fast, slow)


def _history_and_months(conn: Any, start: date, end: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    _, history = service._history(conn, end)
    return history, history.filter(pl.col("as_of") >= start)


def _same(fast: service.Pack, slow: service.Pack) -> None:
    for name in ("months", "figures", "roll", "vintage", "dormant", "staff", "area_figures"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.columns == b.columns, name
        assert_frame_equal(a, b, check_dtypes=False, check_exact=False, rel_tol=1e-12)
    assert fast.runs == slow.runs
    assert fast.area_definitions == slow.area_definitions
    assert fast.left_out == slow.left_out
    assert fast.definitions_version == slow.definitions_version


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 3, 1), date(2026, 6, 30)),
     (date(2026, 2, 1), date(2026, 4, 30))],
)  # fmt: skip
def test_a_pack_from_the_totals_equals_one_from_the_status(
    loaded: History, start: date, end: date
) -> None:
    assert _store(loaded, MONTH_ENDS[0]) == [d.strftime("%Y-%m") for d in MONTH_ENDS]
    stored, (fast, slow) = _both(loaded, start, end)
    assert stored is not None  # the totals were read
    assert fast.figures.height > 0 and fast.area_figures.height > 0
    assert fast.figures.filter(pl.col("dimension") == "collector").height > 0
    assert fast.vintage["ever_principal"].sum() > 0
    _same(fast, slow)


def test_totals_not_covering_the_history_or_another_policy_are_not_read(loaded: History) -> None:
    _store(loaded, MONTH_ENDS[0])
    changed = default_policy().model_copy(deep=True)
    data = changed.model_dump(mode="json")
    data["management"]["vintage_dpd"] = [60]
    other = type(changed).model_validate(data)
    stored, (fast, slow) = _both(loaded, date(2026, 1, 1), date(2026, 6, 30), other)
    assert stored is None
    _same(fast, slow)
    # A pack to mid-June: June's month-end is then the 15th, which has no totals.
    stored, _ = _both(loaded, date(2026, 1, 1), date(2026, 6, 20))
    assert stored is None
    engine = engine_for(loaded.url)
    with engine.begin() as conn:
        conn.execute(delete(management_month_totals).where(
            management_month_totals.c.month == "2026-03"))  # fmt: skip
    engine.dispose()
    stored, (fast, slow) = _both(loaded, date(2026, 1, 1), date(2026, 6, 30))
    assert stored is None
    _same(fast, slow)


def test_the_step_rebuilds_from_the_runs_first_month(loaded: History) -> None:
    _store(loaded, MONTH_ENDS[0])
    engine = engine_for(loaded.url)
    with engine.connect() as conn:
        before = {r.month: bytes(r.frames) for r in conn.execute(select(management_month_totals))}
    engine.dispose()
    assert _store(loaded, date(2026, 5, 3)) == ["2026-05", "2026-06"]
    engine = engine_for(loaded.url)
    with engine.connect() as conn:
        after = {r.month: bytes(r.frames) for r in conn.execute(select(management_month_totals))}
    engine.dispose()
    assert set(after) == set(before)
    for month, blob in after.items():  # the same status: the same totals, written again
        new, new_meta = totals._unpack_frames(blob)
        old, old_meta = totals._unpack_frames(before[month])
        assert new_meta == old_meta
        for name, frame in new.items():
            assert_frame_equal(frame.sort(frame.columns), old[name].sort(frame.columns))
    stored, (fast, slow) = _both(loaded, date(2026, 1, 1), date(2026, 6, 30))
    assert stored is not None
    _same(fast, slow)


def test_dormant_cards_from_the_totals_weigh_recent_activity_only(loaded: History) -> None:
    """The totals read each possibly-dormant card's last transaction in SQL, from a little
    before the dormancy window: a purchase or payment inside the window wakes a card, one
    before it does not, a card owing money is never dormant — as the status pack says."""
    zero = sorted(c for c, card in loaded.cards.items() if card["open_date"] == date(2024, 1, 5))
    assert len(zero) >= 3  # the history's old cards with nothing owed
    statement = {"due_date": date(2026, 4, 5), "statement_balance": 0, "minimum_due": 0}
    engine = engine_for(loaded.url)
    with engine.begin() as conn:
        conn.execute(insert(schema.card_statements), [
            {**statement, "card_id": zero[0], "statement_date": date(2026, 3, 15),
             "purchases": 12_000},  # inside the window: awake from March on
            {**statement, "card_id": zero[1], "statement_date": date(2024, 6, 15),
             "purchases": 9_000},  # two years back: still dormant
        ])  # fmt: skip
        conn.execute(insert(schema.payments), [
            {"payment_id": "PX1", "account_id": zero[2], "value_date": date(2026, 5, 2),
             "amount": 5_000, "channel": "app", "reverses_payment_id": None},
        ])  # fmt: skip
    engine.dispose()
    plain = _dormant_by_month(loaded)
    _store(loaded, MONTH_ENDS[0])
    stored, (fast, slow) = _both(loaded, date(2026, 1, 1), date(2026, 6, 30))
    assert stored is not None
    _same(fast, slow)
    got = {r["as_of"]: r["dormant_cards"] for r in fast.dormant.iter_rows(named=True)}
    assert got == plain
    # the purchase woke one card from March on, the payment another from May on
    assert got[MONTH_ENDS[1]] - got[MONTH_ENDS[2]] == 1
    assert got[MONTH_ENDS[3]] - got[MONTH_ENDS[4]] == 1


def _dormant_by_month(history: History) -> dict[date, int]:
    """A plain recount: cards open on the month-end for 18 months or more, nothing owed on it,
    no purchase statement or payment in the 18 months up to it."""
    st, p = schema.card_statements.c, schema.payments.c
    engine = engine_for(history.url)
    with engine.connect() as conn:
        bought = conn.execute(select(st.card_id, st.statement_date).where(st.purchases > 0))
        paid = conn.execute(
            select(p.account_id, p.value_date).where(p.reverses_payment_id.is_(None))
        )
        active = [(r[0], stored_date(r[1])) for r in [*bought, *paid]]
    engine.dispose()
    owed = {(r["account_id"], r["as_of"]) for r in history.status
            if r["outstanding_principal"] + r["overdue_amount"] != 0}  # fmt: skip
    out = {}
    for day in MONTH_ENDS:
        since = pl.Series([day]).dt.offset_by("-18mo")[0]
        out[day] = sum(
            1 for card, c in history.cards.items()
            if c["open_date"] <= since and (card, day) not in owed
            and c.get("close_date") is None
            and not any(a == card and since < d <= day for a, d in active)
        )  # fmt: skip
    return out
