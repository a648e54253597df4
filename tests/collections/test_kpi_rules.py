"""The KPI arithmetic (KPI-1) without a database: the per-account reduction split, who a
customer's figures go to, costs, the rates of each level (null without a denominator), the
cure rate by bucket and the lines each scope sees — hand-computed."""

from __future__ import annotations

import polars as pl
import pytest

from postloan.collections.rules.kpis import (
    HOLDER_LOG,
    STATUS,
    account_reduction,
    cost_rows,
    cure_by_bucket,
    kpi_table,
    last_holders,
    net_cash,
    visible_lines,
)

POOL = {"account_id": pl.String, "opening": pl.Int64, "closing": pl.Int64, "cash": pl.Int64,
        "disposal": pl.String, "restructured": pl.Boolean}  # fmt: skip


def _split(opening: int, closing: int, cash: int, disposal: str | None = None,
           restructured: bool = False) -> dict[str, int]:  # fmt: skip
    pool = pl.DataFrame([("a", opening, closing, cash, disposal, restructured)], schema=POOL,
                        orient="row")  # fmt: skip
    row = account_reduction(pool).row(0, named=True)
    return {k: row[k] for k in ("recovered", "cash_reduction", "write_off", "transfer",
                                "restructuring", "other")}  # fmt: skip


def test_cash_explains_the_reduction_first_the_rest_is_other() -> None:
    # 1000 overdue → 400: 500 paid explains 500 of the 600 reduction; 100 is "other".
    assert _split(1000, 400, 500) == {"recovered": 500, "cash_reduction": 500, "write_off": 0,
                                      "transfer": 0, "restructuring": 0, "other": 100}  # fmt: skip


def test_a_restructured_account_s_remaining_reduction_is_restructuring() -> None:
    got = _split(1000, 400, 500, restructured=True)
    assert (got["restructuring"], got["other"]) == (100, 0)


def test_a_written_off_account_leaves_the_pool_what_cash_did_not_recover_is_write_off() -> None:
    # Closing overdue is ignored (the account is gone): the reduction is the whole 1000.
    got = _split(1000, 900, 300, disposal="write_off")
    assert (got["cash_reduction"], got["write_off"], got["other"]) == (300, 700, 0)
    got = _split(1000, 900, 0, disposal="asset_disposal")
    assert (got["transfer"], got["write_off"]) == (1000, 0)


def test_cash_beyond_the_opening_overdue_is_not_a_recovery() -> None:
    got = _split(100, 0, 500)
    assert (got["recovered"], got["cash_reduction"], got["other"]) == (100, 100, 0)


def test_overdue_that_grew_counts_negative_in_other() -> None:
    got = _split(100, 300, 0, restructured=True)
    assert (got["cash_reduction"], got["restructuring"], got["other"]) == (0, 0, -200)


def test_net_cash_leaves_out_reversed_payments() -> None:
    paid = pl.DataFrame(
        [("a", 100, False), ("a", 50, True), ("b", 20, True)],
        schema={"account_id": pl.String, "amount": pl.Int64, "reversed": pl.Boolean},
        orient="row",
    )
    assert dict(net_cash(paid).rows()) == {"a": 100}


def test_the_last_holder_keeps_a_released_customer() -> None:
    log = pl.DataFrame(
        [("c1", "allocate", None, 1), ("c1", "reassign", 1, 2), ("c1", "release", 2, None),
         ("c2", "allocate", None, 3), ("c3", "release", None, None), ("c2", "reallocate", 3, 4)],
        schema=HOLDER_LOG, orient="row",
    )  # fmt: skip
    assert last_holders(log).rows() == [("c1", 2), ("c2", 4)]


def test_costs_are_contacts_at_their_unit_cost_and_legal_costs() -> None:
    contacts = pl.DataFrame(
        [("c1", "amy", "phone"), ("c1", "amy", "visit"), ("c2", "bob", "letter")],
        schema={"customer_id": pl.String, "by": pl.String, "channel": pl.String}, orient="row",
    )  # fmt: skip
    legal = pl.DataFrame(
        [("c2", "lee", 50_000)],
        schema={"customer_id": pl.String, "owner": pl.String, "amount": pl.Int64}, orient="row",
    )  # fmt: skip
    got = cost_rows(contacts, {"phone": 150, "visit": 8_000}, legal)
    assert got.rows() == [("c1", "amy", 150), ("c1", "amy", 8_000), ("c2", "bob", 0),
                          ("c2", "lee", 50_000)]  # fmt: skip


def _kpis() -> pl.DataFrame:
    by_customer = account_reduction(
        pl.DataFrame(
            [("a1", 1000, 0, 1000, None, False), ("a2", 3000, 3000, 0, None, False)],
            schema=POOL,
            orient="row",
        )
    ).with_columns(
        pl.Series("customer_id", ["c1", "c2"]),
        pl.Series("collector", ["amy", None], dtype=pl.String),
        pl.Series("team", ["t1", None], dtype=pl.String),
    )
    later = pl.DataFrame(
        [("c1", 1000, "amy", "t1")],
        schema={"customer_id": pl.String, "amount": pl.Int64, "collector": pl.String,
                "team": pl.String}, orient="row",
    )  # fmt: skip
    costs = pl.DataFrame(
        [("c1", "amy", 400)],
        schema={"customer_id": pl.String, "by": pl.String, "cost": pl.Int64}, orient="row",
    )  # fmt: skip
    promise_rows = pl.DataFrame(
        [("kept", "amy"), ("kept", "amy"), ("kept", "amy"), ("broken", "amy")],
        schema={"status": pl.String, "by": pl.String}, orient="row",
    )  # fmt: skip
    contact_rows = pl.DataFrame(
        [("c1", "amy")] * 5, schema={"customer_id": pl.String, "by": pl.String}, orient="row"
    )
    case_rows = pl.DataFrame(
        [("c1", "amy", "t1"), ("c2", None, None)],
        schema={"customer_id": pl.String, "collector": pl.String, "team": pl.String},
        orient="row",
    )  # fmt: skip
    return kpi_table(by_customer, later, costs, promise_rows, contact_rows, case_rows)


def test_rates_per_level() -> None:
    table = _kpis()
    lines = {(r["level"], r["key"]): r for r in table.iter_rows(named=True)}
    assert list(lines) == [("portfolio", "all"), ("team", "t1"), ("collector", "amy")]
    everyone = lines[("portfolio", "all")]
    # 1000 of 4000 recovered; reduction 1000 of 4000; cost 400 ÷ (1000 + 1000 after write-off);
    # 3 of 4 promises kept; 5 contacts over 2 cases.
    assert everyone["pool_accounts"] == 2
    assert everyone["recovery_rate"] == pytest.approx(0.25)
    assert everyone["reduction_rate"] == pytest.approx(0.25)
    assert everyone["cost_ratio"] == pytest.approx(0.2)
    assert everyone["promise_kept_rate"] == pytest.approx(0.75)
    assert everyone["contacts_per_case"] == pytest.approx(2.5)
    amy = lines[("collector", "amy")]
    assert (amy["opening_overdue"], amy["cash_recovered"], amy["cases"]) == (1000, 1000, 1)
    assert amy["recovery_rate"] == pytest.approx(1.0)
    assert amy["contacts_per_case"] == pytest.approx(5.0)
    assert lines[("team", "t1")]["cost"] == 400


def test_a_rate_without_a_denominator_is_null() -> None:
    empty = {"customer_id": pl.String, "collector": pl.String, "team": pl.String}
    case_rows = pl.DataFrame([("c9", "zed", "t9")], schema=empty, orient="row")
    by_customer = account_reduction(pl.DataFrame(schema=POOL)).with_columns(
        pl.lit(None, pl.String).alias(c) for c in empty
    )
    table = kpi_table(
        by_customer,
        pl.DataFrame(schema={**empty, "amount": pl.Int64}),
        pl.DataFrame(schema={"customer_id": pl.String, "by": pl.String, "cost": pl.Int64}),
        pl.DataFrame(schema={"status": pl.String, "by": pl.String}),
        pl.DataFrame(schema={"customer_id": pl.String, "by": pl.String}),
        case_rows,
    )
    row = table.filter(pl.col("level") == "portfolio").row(0, named=True)
    assert row["cases"] == 1 and row["contacts_per_case"] == 0.0
    assert row["recovery_rate"] is None and row["promise_kept_rate"] is None
    assert row["cost_ratio"] is None


def test_cure_rate_by_bucket_counts_opening_principal_of_accounts_current_at_closing() -> None:
    before = pl.DataFrame(
        [("a1", "c1", 600, 10, 5, "1-30", False), ("a2", "c1", 400, 10, 20, "1-30", False),
         ("a3", "c2", 900, 10, 45, "31-60", False), ("a4", "c3", 500, 0, 0, "current", False)],
        schema=STATUS, orient="row",
    )  # fmt: skip
    after = pl.DataFrame(
        [("a1", "c1", 600, 0, 0, "current", False), ("a2", "c1", 400, 10, 40, "31-60", False),
         ("a3", "c2", 900, 0, 0, "current", False)],
        schema=STATUS, orient="row",
    )  # fmt: skip
    disposed = pl.DataFrame({"account_id": ["a3"]})  # current only because written off
    got = cure_by_bucket(before, after, ["1-30", "31-60", "61-90"], disposed)
    assert got.select("bucket", "accounts", "opening_principal", "cured_principal").rows() == [
        ("1-30", 2, 1000, 600), ("31-60", 1, 900, 0), ("61-90", 0, 0, 0)
    ]  # fmt: skip
    assert got["cure_rate"].to_list() == [pytest.approx(0.6), 0.0, None]


def test_each_scope_sees_its_lines() -> None:
    table = _kpis()
    keys = lambda t: [(r[0], r[1]) for r in t.select("level", "key").rows()]  # noqa: E731
    assert keys(visible_lines(table, "all", "x")) == [
        ("portfolio", "all"), ("team", "t1"), ("collector", "amy")
    ]  # fmt: skip
    assert keys(visible_lines(table, "assigned", "amy")) == [("collector", "amy")]
    assert keys(visible_lines(table, "assigned", "bob")) == []
    assert keys(visible_lines(table, "branch", "sup", [("amy", "t1")])) == [
        ("team", "t1"), ("collector", "amy")
    ]  # fmt: skip
    assert keys(visible_lines(table, "branch", "sup", [("bob", None)])) == []
    assert visible_lines(table, None, "x").height == 0
