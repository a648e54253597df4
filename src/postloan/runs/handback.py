"""`postloan import account-status`: a cluster run's account status handed back to the store
(issue 17, `docs/scale-out.md`), so the workbench, collections and every other area work on it
as on a local run's.

The output of `postloan spark run` (Parquet by `as_of`, `postloan.spark.output`) is checked —
the policy version in its files is the store's policy, each (date, account) once, every account
one of the store's with its customer — then published exactly like a run: recorded as a run
(kind `import`), staged, and in one transaction the dates' rows replaced, the areas' steps run
over them and the run marked succeeded (`runs.service`); a failure anywhere leaves every stored
date as it was.

What a cluster run does not compute is refused, not guessed: approved repayment agreements
(schedules that change on a date, restructured loans' classes) live in the store only, so a
store that has any runs its dates with `postloan run`.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import literal, select, union_all

from postloan import areas
from postloan.area import RunInputs
from postloan.engine.frames import ACCOUNT_STATUS
from postloan.policy import Policy
from postloan.runs.liveness import fail_abandoned_runs
from postloan.runs.load import load_changes, load_contract_portfolio

# The run's own steps, shared so an import is published exactly as a run is.
from postloan.runs.service import RunResult, _fail, _publish, _start
from postloan.spark.output import OutputError, read_output
from postloan.store import bulk, schema

KIND = "import"  # runs.kind of a hand-back


class HandBackError(ValueError):
    """The files cannot be handed back (the message says why); nothing was written."""


def _checked(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in ACCOUNT_STATUS if c not in frame.columns]
    if missing:
        raise HandBackError(f"account-status files lack column(s) {', '.join(missing)}")
    try:
        typed = frame.select(pl.col(c).cast(t, strict=True) for c, t in ACCOUNT_STATUS.items())
    except pl.exceptions.PolarsError as exc:
        raise HandBackError(
            f"account-status files have a column of the wrong type: {exc}"
        ) from None
    twice = typed.filter(pl.struct("as_of", "account_id").is_duplicated())
    if twice.height:
        rows = twice.select("as_of", "account_id").unique().sort("as_of", "account_id").head(3)
        raise HandBackError(f"the same account twice on a date: {rows.rows()}")
    return typed


def _store_accounts(conn: object) -> pl.DataFrame:
    loans, cards = schema.loans, schema.cards
    query = union_all(
        select(loans.c.loan_id.label("account_id"), loans.c.customer_id,
               literal("loan").label("account_type")),
        select(cards.c.card_id.label("account_id"), cards.c.customer_id,
               literal("card").label("account_type")),
    )  # fmt: skip
    return bulk.read(conn, select(query.subquery()))


def import_account_status(
    url: str, path: str | Path, policy: Policy, today: date | None = None
) -> RunResult:
    """Publish a Spark run's account status (module doc). Raises `HandBackError` (nothing
    written) or `runs.window.RunDateError` for dates outside the policy's window."""
    timings = {"load": 0.0, "engine": 0.0, "write": 0.0}
    t = time.perf_counter()
    try:
        found_rows, version = read_output(path)
    except OutputError as exc:
        raise HandBackError(str(exc)) from None
    if version != policy.version:
        raise HandBackError(
            f"the files were computed with policy {version[:12]}, the store runs policy "
            f"{policy.version[:12]}: compute them again with this policy (or import with the "
            "policy they were computed with: --policy FILE)"
        )
    status = _checked(found_rows)
    dates = sorted(status.get_column("as_of").unique().to_list())
    with bulk.connect(url) as conn:
        accounts = _store_accounts(conn)
        portfolio = load_contract_portfolio(conn)
        changes = load_changes(conn)
        extras = {name: load(conn, policy) for name, load in areas.run_loaders().items()}
        conn.commit()
    if changes.changes.height or changes.restructurings.height:
        raise HandBackError(
            "the store has approved repayment agreements (schedules changed from a date, "
            "restructured loans), which a cluster run does not see: run these dates with "
            "`postloan run`"
        )
    strangers = status.join(accounts, on=["account_id", "customer_id", "account_type"], how="anti")
    if strangers.height:
        ids = strangers.get_column("account_id").unique().sort().head(5).to_list()
        raise HandBackError(f"accounts the store does not hold (or with another customer): {ids}")
    timings["load"] += time.perf_counter() - t
    fail_abandoned_runs(url)
    run_id, lock = _start(url, KIND, dates, policy, today)
    try:
        t = time.perf_counter()
        staged = status.with_columns(
            pl.lit(False).alias("restructured"), pl.lit(run_id).alias("run_id")
        )
        with bulk.connect(url) as conn:
            rows = bulk.ingest(conn, "staged_status", staged)
            conn.commit()
        timings["write"] += time.perf_counter() - t
        inputs = RunInputs(portfolio, changes, extras)
        _publish(url, dates, policy, run_id, rows, timings, inputs)
    except BaseException as exc:
        _fail(url, run_id, timings, exc)
        raise
    finally:
        lock.release()
    return RunResult(run_id, len(dates), rows, timings)
