"""Every reject reason of `postloan import`: the bad row is rejected naming its column and
reason, the good rows of the same file land, and the rejects file says row, column, value."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from postloan.ids import prc_id_check_digit
from postloan.imports.service import import_file
from postloan.store import bulk, schema

FIRST17 = "11010519491231002"
GOOD_ID = FIRST17 + prc_id_check_digit(FIRST17)
BAD_ID = FIRST17 + ("0" if prc_id_check_digit(FIRST17) != "0" else "1")

BASE = {
    "customers": {"customer_id": "C1", "name": "张三", "id_number": GOOD_ID,
                  "phone": "13812345678", "monthly_income": "8000.00", "consent_marketing": "true",
                  "consent_date": "2024-01-02"},
    "loans": {"loan_id": "L1", "customer_id": "C1", "principal": "12000.00",
              "annual_rate": "0.06", "term_months": "12", "repayment_method": "equal_installment",
              "disbursement_date": "2024-01-15", "purpose": "consumer"},
    "cards": {"card_id": "K1", "customer_id": "C1", "credit_limit": "50000.00",
              "open_date": "2023-01-01"},
    "card-statements": {"card_id": "K1", "statement_date": "2024-01-05",
                        "due_date": "2024-01-25", "statement_balance": "500.00",
                        "minimum_due": "50.00"},
    "payments": {"payment_id": "P1", "account_id": "L1", "value_date": "2024-02-15",
                 "amount": "1032.80"},
    "events": {"event_id": "E1", "customer_id": "C1", "date": "2024-03-01", "type": "contact"},
    "schedules": {"loan_id": "L1", "period": "1", "due_date": "2024-02-15",
                  "principal_due": "12000.00", "interest_due": "60.00"},
}  # fmt: skip
ORDER = ["customers", "loans", "cards", "card-statements", "payments", "events"]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pl.DataFrame(rows).write_csv(path)
    return path


def _seed(url: str, tmp: Path, kind_under_test: str) -> None:
    """Import the base row of every other kind (referential integrity needs them). Rows that
    depend on the kind under test are rejected here, which is fine: nothing needs them."""
    for kind in ORDER:
        if kind != kind_under_test:
            import_file(kind, _csv(tmp / f"base-{kind}.csv", [BASE[kind]]), url)


def _good_variant(kind: str) -> dict[str, str]:
    """A second valid row of the kind, so each file has a good row beside the bad one."""
    row = dict(BASE[kind])
    key = {"customers": "customer_id", "loans": "loan_id", "cards": "card_id",
           "payments": "payment_id", "events": "event_id"}.get(kind)  # fmt: skip
    if key:
        row[key] = row[key] + "-ok"
    if kind == "card-statements":
        row["statement_date"], row["due_date"] = "2024-02-05", "2024-02-25"
    return row


CASES = [
    # kind, changes to the base row, rejected column, words of the reason
    ("customers", {"monthly_income": "12.345"}, "monthly_income", "cannot read"),
    ("customers", {"monthly_income": "-1.00"}, "monthly_income", "negative"),
    ("customers", {"id_number": BAD_ID}, "id_number", "PRC resident ID"),
    ("customers", {"id_number": "110105194913310021"}, "id_number", "PRC resident ID"),
    ("customers", {"phone": "12345678901"}, "phone", "mobile"),
    ("customers", {"name": ""}, "name", "required value is empty"),
    ("customers", {"consent_marketing": "maybe"}, "consent_marketing", "cannot read"),
    ("customers", {"consent_date": "2024-02-30"}, "consent_date", "cannot read"),
    ("loans", {"principal": "0.00"}, "principal", "greater than 0"),
    ("loans", {"annual_rate": "-0.01"}, "annual_rate", "negative"),
    ("loans", {"annual_rate": "six percent"}, "annual_rate", "cannot read"),
    ("loans", {"term_months": "0"}, "term_months", "at least 1"),
    ("loans", {"term_months": "12.5"}, "term_months", "cannot read"),
    ("loans", {"repayment_method": "balloon"}, "repayment_method", "one of"),
    ("loans", {"purpose": "holiday"}, "purpose", "one of"),
    ("loans", {"first_due_date": "2024-01-10"}, "first_due_date", "after the disbursement"),
    ("loans", {"customer_id": "C404"}, "customer_id", "no such customer"),
    ("loans", {"loan_id": "K1"}, "loan_id", "already used by a card"),
    ("cards", {"close_date": "2022-12-31"}, "close_date", "before the open date"),
    ("cards", {"customer_id": "C404"}, "customer_id", "no such customer"),
    ("cards", {"card_id": "L1"}, "card_id", "already used by a loan"),
    ("cards", {"credit_limit": "-5.00"}, "credit_limit", "negative"),
    ("card-statements", {"due_date": "2024-01-05"}, "due_date", "after the statement date"),
    ("card-statements", {"card_id": "K404"}, "card_id", "no such card"),
    ("card-statements", {"minimum_due": "-1.00"}, "minimum_due", "negative"),
    ("payments", {"amount": "0"}, "amount", "greater than 0"),
    ("payments", {"amount": "1.001"}, "amount", "cannot read"),
    ("payments", {"account_id": "X9"}, "account_id", "no such loan or card"),
    ("payments", {"value_date": "15/02/2024"}, "value_date", "cannot read"),
    ("payments", {"reverses_payment_id": "P404"}, "reverses_payment_id", "no such payment"),
    ("payments", {"reverses_payment_id": "P1"}, "reverses_payment_id", "reverse itself"),
    ("events", {"type": "party"}, "type", "one of"),
    ("events", {"customer_id": "C404"}, "customer_id", "no such customer"),
    ("events", {"account_id": "X9"}, "account_id", "no such loan or card"),
]


@pytest.mark.parametrize(("kind", "change", "column", "words"), CASES)
def test_reject_reason(
    store_url: str, tmp_path: Path, kind: str, change: dict[str, str], column: str, words: str
) -> None:
    _seed(store_url, tmp_path, kind)
    bad = {**BASE[kind], **change}
    path = _csv(tmp_path / f"{kind}.csv", [_good_variant(kind), bad])
    result = import_file(kind, path, store_url)
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.rejects_file is not None
    rejects = pl.read_csv(result.rejects_file, infer_schema=False)
    assert rejects.height == 1
    line = rejects.row(0, named=True)
    assert line["reject_row"] == "2"  # the second data row of the file
    assert line["reject_column"] == column
    assert words in line["reject_reason"] and column in line["reject_reason"]
    # Same columns as the input, so the rows can be fixed and re-imported.
    assert set(pl.read_csv(path, n_rows=0).columns) <= set(rejects.columns)


def test_missing_required_column_rejects_every_row(store_url: str, tmp_path: Path) -> None:
    rows = [{k: v for k, v in BASE["customers"].items() if k != "name"}]
    result = import_file("customers", _csv(tmp_path / "c.csv", rows), store_url)
    assert (result.accepted, result.rejected) == (0, 1)
    assert result.rejects_file is not None
    reason = pl.read_csv(result.rejects_file)["reject_reason"][0]
    assert "name" in reason and "missing from the file" in reason


def test_schedule_must_repay_the_loan(store_url: str, tmp_path: Path) -> None:
    _seed(store_url, tmp_path, "schedules")
    rows = [{**BASE["schedules"], "principal_due": "11999.99"}]
    result = import_file("schedules", _csv(tmp_path / "s.csv", rows), store_url)
    assert result.rejected == 1
    rows = [BASE["schedules"]]
    assert import_file("schedules", _csv(tmp_path / "s2.csv", rows), store_url).accepted == 1


def test_duplicates_in_file_and_against_store(store_url: str, tmp_path: Path) -> None:
    same = BASE["customers"]
    changed = {**same, "name": "李四"}
    # In one file: an exact repeat is a no-op; two versions of one id are both rejected.
    result = import_file("customers", _csv(tmp_path / "a.csv", [same, same]), store_url)
    assert (result.accepted, result.unchanged, result.rejected) == (1, 1, 0)
    other = {**same, "customer_id": "C2"}
    other_changed = {**other, "name": "王五"}
    result = import_file("customers", _csv(tmp_path / "b.csv", [other, other_changed]), store_url)
    assert (result.accepted, result.rejected) == (0, 2)
    # Against the store: same content is unchanged, changed content is rejected.
    result = import_file("customers", _csv(tmp_path / "c.csv", [same]), store_url)
    assert (result.accepted, result.unchanged, result.rejected) == (0, 1, 0)
    result = import_file("customers", _csv(tmp_path / "d.csv", [changed]), store_url)
    assert result.rejected == 1
    assert result.rejects_file is not None
    assert pl.read_csv(result.rejects_file)["reject_column"][0] == "name"
    with bulk.connect(store_url) as conn:
        names = bulk.read(conn, select(schema.customers.c.name))["name"].to_list()
    assert names == ["张三"], "a rejected change must not touch the stored row"


def test_rejects_file_removed_once_fixed(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    _csv(path, [{**BASE["customers"], "phone": "123"}])
    first = import_file("customers", path, store_url)
    assert first.rejects_file is not None and first.rejects_file.exists()
    _csv(path, [BASE["customers"]])
    second = import_file("customers", path, store_url)
    assert second.rejected == 0 and not first.rejects_file.exists()


def test_extra_columns_kept_and_warned(store_url: str, tmp_path: Path) -> None:
    rows = [{**BASE["customers"], "segment": "vip", "wechat": "zs2024"}]
    result = import_file("customers", _csv(tmp_path / "c.csv", rows), store_url)
    assert result.accepted == 1 and result.warnings
    with bulk.connect(store_url) as conn:
        extra = bulk.read(conn, select(schema.customers.c.extra))["extra"][0]
    assert '"segment":"vip"' in extra and '"wechat":"zs2024"' in extra


def test_reversal_of_a_rejected_payment_is_rejected(store_url: str, tmp_path: Path) -> None:
    _seed(store_url, tmp_path, "payments")
    bad = {**BASE["payments"], "payment_id": "P2", "amount": "-5"}
    reversal = {**BASE["payments"], "payment_id": "R2", "reverses_payment_id": "P2"}
    good = {**BASE["payments"], "payment_id": "P3"}
    result = import_file("payments", _csv(tmp_path / "p.csv", [bad, reversal, good]), store_url)
    assert (result.accepted, result.rejected) == (1, 2)
    assert result.rejects_file is not None
    reasons = pl.read_csv(result.rejects_file).sort("reject_row")["reject_reason"].to_list()
    assert "reverses a payment rejected in this file" in reasons[1]


def test_parquet_import_matches_csv_import(make_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from postloan.contract import write_contract_files
    from postloan.synth import generate
    from tests.store.conftest import AS_OF, import_all

    sp = generate(accounts=150, seed=5, as_of=AS_OF)
    write_contract_files(sp, tmp_path / "csv", fmt="csv")
    write_contract_files(sp, tmp_path / "pq", fmt="parquet")
    csv_url, pq_url = make_store("sqlite"), make_store("sqlite")
    assert import_all(csv_url, tmp_path / "csv") == import_all(pq_url, tmp_path / "pq", ".parquet")
    with bulk.connect(csv_url) as a, bulk.connect(pq_url) as b:
        for table in (schema.payments, schema.loans):
            query = select(table).order_by(*table.primary_key.columns)
            assert bulk.read(a, query).equals(bulk.read(b, query)), table.name


def test_large_import_rebuilds_indexes(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big imports drop and rebuild secondary indexes; they must exist again afterwards and a
    failure must leave them in place (the rebuild is inside the import's transaction)."""
    from sqlalchemy import inspect

    from postloan.store.db import engine_for

    monkeypatch.setattr(bulk, "REBUILD_AT", 1)
    _seed(store_url, tmp_path, "payments")
    rows = [{**BASE["payments"], "payment_id": f"P{i}"} for i in range(2, 40)]
    assert import_file("payments", _csv(tmp_path / "p.csv", rows), store_url).accepted == 38
    engine = engine_for(store_url)
    names = {ix["name"] for ix in inspect(engine).get_indexes("payments")}
    engine.dispose()
    assert "ix_payments_account_id_value_date" in names


def test_file_without_any_contract_column(store_url: str, tmp_path: Path) -> None:
    path = _csv(tmp_path / "odd.csv", [{"foo": "1", "bar": "2"}, {"foo": "3", "bar": "4"}])
    for kind in ("customers", "payments", "card-statements", "schedules"):
        result = import_file(kind, path, store_url)
        assert (result.accepted, result.rejected) == (0, 2), kind
        assert result.rejects_file is not None
        assert "missing from the file" in pl.read_csv(result.rejects_file)["reject_reason"][0]
