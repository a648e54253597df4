"""What runs on a Spark executor: one partition of customers as Arrow batches, through the
engine, out as Arrow batches. No pyspark here — only pyarrow, polars and the engine — so the
partition logic is the single-machine code and can be tested without Spark.

A partition's rows come in the *packed* shape `job` builds: `_key` (a 64-bit hash of the row's
customer: the partitioning and sort key), `_kind` (which contract file) and a few typed slots
that every kind fills with its own columns (`SLOTS`: a loan's principal and a payment's amount
share `_amount1`, their dates `_date1` …). So the shuffle moves narrow rows in the contract's
own types — dates stay dates, integers integers; amounts arrive as the contract's decimal text
(or whole-unit integers) — not a wide all-text row mostly of nulls, and a task parses only what
the contract leaves as text (`parse_contract`, exact decimals, the code of the local path).

The rows of a partition come sorted by `_key`, so the partition is cut into chunks of about
`chunk_rows` input rows at a change of `_key`: the executor's memory is bounded by a chunk, not
by the partition. Chunks are cut only between keys — hence between customers (two customers
whose hashes collide simply stay together) — so a customer's accounts are always computed
together (a customer with thousands of accounts makes one large chunk, never a split one), the
unit the customer-level steps downstream read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import polars as pl
import pyarrow as pa

from postloan.contract.files import ContractTables, parse_contract, portfolio_of
from postloan.contract.spec import engine_schema
from postloan.engine import (
    Portfolio,
    account_status_history,
    instalment_status,
    statement_status,
)
from postloan.policy import Policy

# The contract columns the engine reads, per file kind, and the slot each travels in. A slot
# holds one column of every kind (none twice), so a packed row is about as wide as the widest
# kind; `job` gives a slot the type its columns share (text when they differ).
SLOTS: dict[str, dict[str, str]] = {
    "loans": {
        "loan_id": "_account", "customer_id": "_text1", "repayment_method": "_text2",
        "principal": "_amount1", "annual_rate": "_amount2", "term_months": "_int1",
        "disbursement_date": "_date1", "first_due_date": "_date2",
    },
    "schedules": {
        "loan_id": "_account", "period": "_int1", "due_date": "_date1",
        "principal_due": "_amount1", "interest_due": "_amount2",
    },
    "cards": {
        "card_id": "_account", "customer_id": "_text1", "credit_limit": "_amount1",
        "open_date": "_date1", "close_date": "_date2",
    },
    "card_statements": {
        "card_id": "_account", "statement_date": "_date1", "due_date": "_date2",
        "statement_balance": "_amount1", "minimum_due": "_amount2", "purchases": "_amount3",
    },
    "payments": {
        "account_id": "_account", "payment_id": "_text1", "reverses_payment_id": "_text2",
        "amount": "_amount1", "value_date": "_date1",
    },
}  # fmt: skip
NEEDED: dict[str, tuple[str, ...]] = {kind: tuple(slots) for kind, slots in SLOTS.items()}
SLOT_NAMES = ("_account", "_text1", "_text2", "_amount1", "_amount2", "_amount3", "_date1",
              "_date2", "_int1")  # fmt: skip
KIND_CODE = {kind: code for code, kind in enumerate(SLOTS)}
REQUIRED_KINDS = ("loans", "cards", "card_statements", "payments")  # schedules is optional
OWNING_KINDS = ("loans", "cards")  # the kinds that name their account's customer
ACCOUNT_KEY = {
    "loans": "loan_id",
    "schedules": "loan_id",
    "cards": "card_id",
    "card_statements": "card_id",
    "payments": "account_id",
}
KEY = "_key"  # xxhash64 of the row's customer (null: no known customer): partition + sort key
KIND = "_kind"  # KIND_CODE of the row's contract file
PACKED_COLUMNS = (KEY, KIND, *SLOT_NAMES)

OUTPUTS = ("account_status", "instalment_status", "statement_status")
CHUNK_ROWS = 1_000_000  # input rows per engine call (about 40k accounts of a lender's mix)


class SparkInputError(ValueError):
    """Inputs the engine would refuse (a payment for an account that is neither a loan nor a
    card, an account id used twice): raised on the executor, reported by the driver."""


@dataclass(frozen=True)
class Plan:
    """What every task is told: the dates, the policy and which output it computes."""

    dates: tuple[date, ...]
    policy: Policy
    output: str = "account_status"
    chunk_rows: int = CHUNK_ROWS


def run_partition(batches: Iterable[pa.RecordBatch], plan: Plan) -> Iterator[pa.RecordBatch]:
    """`mapInArrow`'s function: the partition's packed rows (sorted by `_key`) -> output
    batches."""
    held: list[pl.DataFrame] = []
    rows = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        held.append(frame)
        rows += frame.height
        if rows >= plan.chunk_rows:
            whole = pl.concat(held)
            last = whole[KEY][-1]
            # The last key's rows may go on in the next batch: keep them for the next chunk.
            later = pl.col(KEY).eq_missing(last)
            yield from compute(whole.filter(~later), plan)
            held = [whole.filter(later)]
            rows = held[0].height
    if held:
        yield from compute(pl.concat(held), plan)


def compute(chunk: pl.DataFrame, plan: Plan) -> Iterator[pa.RecordBatch]:
    """Whole customers' packed contract rows -> the engine's answer for them, as Arrow
    batches."""
    if chunk.height == 0:
        return
    refuse_strays(chunk)
    portfolio = portfolio_from_packed(chunk)
    if portfolio.loans.height + portfolio.cards.height == 0:
        return
    frame = engine_output(portfolio, plan)
    table = frame.to_arrow().cast(arrow_schema(plan.output, plan.policy))
    yield from table.to_batches(max_chunksize=64_000)


def refuse_strays(chunk: pl.DataFrame) -> None:
    """Rows without a customer (a payment, schedule or statement of an account that is neither
    a loan nor a card; a loan or card without a customer) are refused by account id."""
    stray = chunk.filter(pl.col(KEY).is_null())
    if stray.height == 0:
        return
    ids = stray["_account"].cast(pl.String).unique().sort(nulls_last=True).head(5).to_list()
    kinds = sorted(kind for kind, code in KIND_CODE.items() if code in set(stray[KIND]))
    raise SparkInputError(
        f"rows for accounts that are neither a loan nor a card: {ids} ({', '.join(kinds)})"
    )


def kind_rows(rows: pl.DataFrame, kind: str) -> pl.DataFrame:
    """One kind's packed rows under their contract names, parsed like a contract file
    (`contract.files.parse_contract`): typed columns taken as they are, text parsed exactly."""
    raw = rows.select(pl.col(slot).alias(name) for name, slot in SLOTS[kind].items())
    return parse_contract(raw, kind, f"{kind} (Spark input)")


def portfolio_from_packed(chunk: pl.DataFrame) -> Portfolio:
    """The packed rows of whole customers -> the engine's Portfolio, built by the function the
    local path uses (`contract.files.portfolio_of`)."""
    by_kind = chunk.partition_by(KIND, as_dict=True)  # one pass, not a filter per kind
    frames = {
        kind: kind_rows(by_kind.get((code,), chunk.clear()), kind)
        for kind, code in KIND_CODE.items()
    }
    statements = frames["card_statements"].with_columns(pl.col("purchases").fill_null(0))
    tables = ContractTables(
        customers=pl.DataFrame(schema=engine_schema("customers")),
        loans=frames["loans"],
        schedules=frames["schedules"],
        cards=frames["cards"],
        statements=statements,
        payments=frames["payments"],
        events=pl.DataFrame(schema=engine_schema("events")),
    )
    return portfolio_of(tables)


def engine_output(portfolio: Portfolio, plan: Plan) -> pl.DataFrame:
    """The engine's entry point for the output asked: the same calls as the local run."""
    if plan.output == "account_status":
        return account_status_history(portfolio, list(plan.dates), plan.policy)
    per_date = statement_status if plan.output == "statement_status" else instalment_status
    if plan.output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, not {plan.output!r}")
    return pl.concat(
        [
            per_date(portfolio, day, plan.policy).with_columns(pl.lit(day).alias("as_of"))
            for day in sorted(set(plan.dates))
        ]
    )


def output_frame_schema(output: str, policy: Policy) -> pl.Schema:
    """The output's columns and types, taken from the engine itself (an empty portfolio)."""
    plan = Plan((date(2000, 1, 1),), policy, output)
    return engine_output(Portfolio(), plan).schema


_ARROW = {
    pl.String: pa.string(),
    pl.Int64: pa.int64(),
    pl.Int32: pa.int32(),
    pl.Date: pa.date32(),
    pl.Boolean: pa.bool_(),
}


def arrow_schema(output: str, policy: Policy) -> pa.Schema:
    """The Arrow schema Spark is told for `output` (plain `string`, not polars' large one)."""
    fields = []
    for name, dtype in output_frame_schema(output, policy).items():
        arrow = _ARROW.get(dtype.base_type())
        if arrow is None:
            raise TypeError(f"{output}.{name}: no Spark type for {dtype}")
        fields.append(pa.field(name, arrow))
    return pa.schema(fields)
