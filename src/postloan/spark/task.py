"""What runs on a Spark executor: one partition of customers as Arrow batches, through the
engine, out as Arrow batches. No pyspark here — only pyarrow, polars and the engine — so the
partition logic is the single-machine code and can be tested without Spark.

The rows of a partition come sorted by customer (`job` sorts them), so the partition is cut
into chunks of whole customers of about `chunk_rows` input rows: the executor's memory is
bounded by a chunk, not by the partition. Chunks are cut only between customers, so a
customer's accounts are always computed together (a customer with thousands of accounts makes
one large chunk, never a split one) — the unit the customer-level steps downstream read.
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

# The contract columns the engine reads, per file kind (optional ones may be absent).
NEEDED: dict[str, tuple[str, ...]] = {
    "loans": (
        "loan_id", "customer_id", "principal", "annual_rate", "term_months",
        "repayment_method", "disbursement_date", "first_due_date",
    ),
    "schedules": ("loan_id", "period", "due_date", "principal_due", "interest_due"),
    "cards": ("card_id", "customer_id", "credit_limit", "open_date", "close_date"),
    "card_statements": (
        "card_id", "statement_date", "due_date", "statement_balance", "minimum_due", "purchases",
    ),
    "payments": ("payment_id", "account_id", "value_date", "amount", "reverses_payment_id"),
}  # fmt: skip
REQUIRED_KINDS = ("loans", "cards", "card_statements", "payments")  # schedules is optional
ACCOUNT_KEY = {
    "loans": "loan_id",
    "schedules": "loan_id",
    "cards": "card_id",
    "card_statements": "card_id",
    "payments": "account_id",
}
KIND = "_kind"  # which contract file a row of the combined frame comes from
CUSTOMER = "_customer"  # the customer of the row's account: the partitioning key
ACCOUNT = "_account"
# Every column of the combined ("wide") frame: the tags, then each needed contract column
# once (as text: the contract's own decimal strings and ISO dates, parsed here exactly).
WIDE_COLUMNS: tuple[str, ...] = (
    KIND,
    CUSTOMER,
    ACCOUNT,
    *sorted({c for cols in NEEDED.values() for c in cols}),
)

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
    """`mapInArrow`'s function: the partition's rows (sorted by customer) -> output batches."""
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
            whole = pl.concat(held, how="vertical_relaxed")
            last = whole[CUSTOMER][-1]
            # The last customer may go on in the next batch: keep it for the next chunk.
            later = pl.col(CUSTOMER).eq_missing(last)
            yield from compute(whole.filter(~later), plan)
            held = [whole.filter(later)]
            rows = held[0].height
    if held:
        yield from compute(pl.concat(held, how="vertical_relaxed"), plan)


def compute(chunk: pl.DataFrame, plan: Plan) -> Iterator[pa.RecordBatch]:
    """Whole customers' contract rows -> the engine's answer for them, as Arrow batches."""
    if chunk.height == 0:
        return
    stray = chunk.filter(pl.col(CUSTOMER).is_null())
    if stray.height:
        ids = stray[ACCOUNT].unique().sort().head(5).to_list()
        raise SparkInputError(
            f"rows for accounts that are neither a loan nor a card: {ids} "
            f"({', '.join(sorted(set(stray[KIND].to_list())))})"
        )
    portfolio = portfolio_from_wide(chunk)
    if portfolio.loans.height + portfolio.cards.height == 0:
        return
    frame = engine_output(portfolio, plan)
    table = frame.to_arrow().cast(arrow_schema(plan.output, plan.policy))
    yield from table.to_batches(max_chunksize=64_000)


def portfolio_from_wide(chunk: pl.DataFrame) -> Portfolio:
    """The combined frame's rows, kind by kind, parsed like contract files (`contract.files`)."""

    def kind_rows(kind: str) -> pl.DataFrame:
        rows = chunk.filter(pl.col(KIND) == kind)
        cols = [c for c in NEEDED[kind] if c in rows.columns]
        raw = rows.select(pl.col(c).cast(pl.String) for c in cols)
        return parse_contract(raw, kind, f"{kind} (Spark input)")

    frames = {kind: kind_rows(kind) for kind in NEEDED}
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
