"""Bulk reads take their column types from the query, never from the rows (issue 10, defect 1).

The ADBC SQLite driver types each result column by the values of its first batch (1,024 rows):
a nullable column NULL in all of them became INT64 and the first text value after it failed
("Type mismatch in column N"). These tests put the first non-NULL value after that batch, on
every backend, and check the values and types that come back."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy import func, select

from postloan.engine.frames import CARDS, PAYMENTS
from postloan.store import bulk, schema

ROWS = 2_000
LATE = 1_500  # the first non-NULL value: well after the driver's first batch of 1,024 rows
DAY = date(2025, 1, 1)


def _store_with_late_values(url: str) -> None:
    n = pl.int_range(0, ROWS, eager=True)
    late = n >= LATE
    customers = pl.DataFrame({"customer_id": "CU" + n.cast(pl.String).str.zfill(6)}).with_columns(
        name=pl.lit("王五"),
        id_type=pl.lit("prc_id"),
        monthly_income=pl.when(late).then(n * 100),
        consent_marketing=pl.when(late).then(n % 2 == 0),
        consent_date=pl.when(late).then(pl.lit(DAY)),
        extra=pl.when(late).then(pl.lit('{"email":"a@b.cn"}')),
    )
    cards = pl.DataFrame(
        {
            "card_id": "C" + n.cast(pl.String).str.zfill(6),
            "customer_id": customers["customer_id"],
            "credit_limit": pl.repeat(1_000_000, ROWS, eager=True, dtype=pl.Int64),
            "open_date": pl.repeat(DAY, ROWS, eager=True),
        }
    ).with_columns(close_date=pl.when(late).then(pl.lit(DAY + timedelta(days=30))))
    payments = pl.DataFrame(
        {
            "payment_id": "P" + n.cast(pl.String).str.zfill(6),
            "account_id": cards["card_id"],
            "value_date": pl.repeat(DAY + timedelta(days=5), ROWS, eager=True),
            "amount": pl.repeat(100, ROWS, eager=True, dtype=pl.Int64),
        }
    ).with_columns(
        reverses_payment_id=pl.when(late).then(pl.lit("P000000")),
    )
    with bulk.connect(url) as conn:
        bulk.ingest(conn, "customers", customers)
        bulk.ingest(conn, "cards", cards)
        bulk.ingest(conn, "payments", payments)
        conn.commit()


def test_nullable_columns_first_set_after_the_first_batch(store_url: str) -> None:
    _store_with_late_values(store_url)
    p, c, cu = schema.payments, schema.cards, schema.customers
    with bulk.connect(store_url) as conn:
        pays = bulk.read(
            conn, select(*(p.c[n] for n in PAYMENTS)).order_by(p.c.account_id), PAYMENTS
        )
        cards = bulk.read(
            conn,
            select(c.c.card_id.label("account_id"), *(c.c[n] for n in list(CARDS)[1:])).order_by(
                c.c.card_id
            ),
            CARDS,
        )
        people = bulk.read(
            conn,
            select(
                cu.c.customer_id,
                cu.c.monthly_income,
                cu.c.consent_marketing,
                cu.c.consent_date,
                cu.c.extra,
            ).order_by(cu.c.customer_id),
        )
    assert pays.schema == pl.Schema(PAYMENTS)
    assert pays["reverses_payment_id"].null_count() == LATE
    assert pays["reverses_payment_id"][LATE:].to_list() == ["P000000"] * (ROWS - LATE)
    assert cards.schema == pl.Schema(CARDS)
    assert cards["close_date"].null_count() == LATE
    assert cards["close_date"][-1] == DAY + timedelta(days=30)
    assert people.schema == pl.Schema(
        {
            "customer_id": pl.String,
            "monthly_income": pl.Int64,
            "consent_marketing": pl.Boolean,
            "consent_date": pl.Date,
            "extra": pl.String,
        }
    )
    assert people["extra"].null_count() == LATE
    assert people["consent_marketing"][LATE:].to_list() == [i % 2 == 0 for i in range(LATE, ROWS)]
    assert people["monthly_income"][-1] == (ROWS - 1) * 100


def test_empty_text_is_not_null(store_url: str) -> None:
    """On SQLite a NULL is sent as '' plus a flag: a stored '' must stay ''."""
    with bulk.connect(store_url) as conn:
        bulk.ingest(
            conn,
            "customers",
            pl.DataFrame(
                {
                    "customer_id": ["A", "B"],
                    "name": ["甲", "乙"],
                    "id_type": ["prc_id"] * 2,
                    "phone": ["", None],
                }
            ),
        )
        conn.commit()
        frame = bulk.read(
            conn,
            select(schema.customers.c.customer_id, schema.customers.c.phone).order_by(
                schema.customers.c.customer_id
            ),
        )
    assert frame["phone"].to_list() == ["", None]


def test_outer_join_nulls_in_a_not_null_column(store_url: str) -> None:
    """A NOT NULL column read through an outer join can be NULL anywhere."""
    _store_with_late_values(store_url)
    cu, c = schema.customers, schema.cards
    with bulk.connect(store_url) as conn:
        bulk.execute(conn, f"DELETE FROM payments WHERE payment_id < 'P{LATE:06d}'")
        conn.commit()
        frame = bulk.read(
            conn,
            select(cu.c.customer_id, schema.payments.c.value_date, c.c.open_date)
            .select_from(
                cu.join(c, c.c.customer_id == cu.c.customer_id).outerjoin(
                    schema.payments, schema.payments.c.account_id == c.c.card_id
                )
            )
            .order_by(cu.c.customer_id),
        )
    assert frame.schema["value_date"] == pl.Date
    assert frame["value_date"].null_count() == LATE
    assert frame["value_date"][-1] == DAY + timedelta(days=5)


def test_empty_result_has_the_declared_types(store_url: str) -> None:
    with bulk.connect(store_url) as conn:
        pays = bulk.read(conn, select(*(schema.payments.c[n] for n in PAYMENTS)), PAYMENTS)
        count = bulk.read(conn, select(func.count().label("n")).select_from(schema.payments))
    assert pays.height == 0 and pays.schema == pl.Schema(PAYMENTS)
    assert count["n"].to_list() == [0] and count.schema["n"] == pl.Int64


def test_raw_sql_and_untyped_columns_are_refused(store_url: str) -> None:
    from sqlalchemy import literal_column

    with bulk.connect(store_url) as conn:
        with pytest.raises(TypeError, match="SQLAlchemy select"):
            bulk.read(conn, "SELECT payment_id FROM payments")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="needs a name and an integer"):
            bulk.read(conn, select(literal_column("payment_id")).select_from(schema.payments))
        with pytest.raises(ValueError, match="does not select"):
            bulk.read(conn, select(schema.payments.c.amount), {"amont": pl.Int64})


def test_no_reader_bypasses_the_typed_read() -> None:
    """Only store/bulk.py fetches Arrow results: everything else goes through `bulk.read`."""
    from pathlib import Path

    import postloan

    root = Path(postloan.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "fetch_arrow" in path.read_text(encoding="utf-8") and path.name != "bulk.py"
    ]
    assert offenders == []
