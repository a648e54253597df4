"""`postloan demo` and `postloan status`: the engine over contract files."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from postloan.cli.common import business_date, policy_from, refuse_run_dates, run_with_progress
from postloan.contract import read_contract_files, write_contract_files
from postloan.engine import account_status
from postloan.engine.frames import Portfolio
from postloan.policy import Policy
from postloan.reports.export import write_account_status
from postloan.reports.summary import summarise
from postloan.synth import generate

console = Console()


def _run_engine(portfolio: Portfolio, as_of: date, policy: Policy) -> pl.DataFrame:
    with Progress(
        TextColumn("[bold]as-of {task.fields[as_of]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} partitions"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("engine", total=None, as_of=as_of)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return account_status(portfolio, as_of, policy, progress=progress)


IMPORT_ORDER = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


def demo(
    customers: int = typer.Option(5_000, help="Demo customers to generate (accounts ≈ 1.4×)."),
    as_of: str = typer.Option("2026-06-30", help="Business date D (YYYY-MM-DD)."),
    days: int = typer.Option(120, min=1, max=3660, help="Days to backfill, ending on D."),
    seed: int = typer.Option(42, help="Random seed: the same seed gives the same portfolio."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the workbench after."),
    host: str = typer.Option("127.0.0.1", help="Address to serve on."),
    port: int = typer.Option(8000, help="Port to serve on."),
) -> None:
    """The main job on demo data: generate a portfolio, import it into the store through the
    validating import, backfill account status for the last DAYS days, print D's summary,
    create one demo user per role (and a collection team per branch, whose cases the run
    allocates) and serve the web workbench (--no-serve to stop there). The backfill runs in
    two parts with the staff's demo records between them — collectors' calls with promises to
    pay, some kept and some broken (`runs.demo`)."""
    from postloan.access.permissions import Action
    from postloan.cli.operator import authorize
    from postloan.imports.service import import_file
    from postloan.runs.service import date_range
    from postloan.runs.window import check_dates, upper_window
    from postloan.store.config import data_dir
    from postloan.store.db import ready

    policy = policy_from(policy_file)
    day = business_date(as_of)
    first = day - timedelta(days=days - 1)
    # Not after today + N days: checked before the store is replaced (the lower bound needs
    # the generated loans and is checked by the run itself).
    refuse_run_dates(lambda: check_dates(upper_window(policy), first, day, ("--as-of", "--as-of")))
    authorize(ready(), Action.STORE_ADMIN, "demo")  # before the store is replaced
    started = time.perf_counter()
    url = _fresh_demo_store()
    folder = data_dir() / "demo"
    synthetic = generate(accounts=int(customers * 1.4), seed=seed, as_of=day)
    write_contract_files(synthetic, folder, fmt="csv")
    console.print(f"Generated a demo portfolio as contract files in {folder}/")
    for kind in IMPORT_ORDER:
        path = folder / f"{kind.replace('-', '_')}.csv"
        if path.exists():
            r = import_file(kind, path, url)
            console.print(
                f"  import {kind:<16} {r.rows:>9,} rows: {r.accepted:>9,} new, "
                f"{r.unchanged:>9,} unchanged, {r.rejected:,} rejected"
            )
    from postloan.cli.serve_cmd import demo_staff, print_logins, serve_app
    from postloan.runs.demo import demo_runs

    logins = demo_staff(url)  # before the run: its allocation gives cases to the collectors
    # Two runs, the areas' demo hooks between them (collectors' calls with promises to pay)
    results, recorded = refuse_run_dates(
        lambda: demo_runs(url, date_range(first, day), policy, seed, run_with_progress)
    )
    runs = ", ".join(str(r.run_id) for r in results)
    console.print(
        f"Run {runs}: account status for {sum(r.dates for r in results)} days, "
        f"{sum(r.rows for r in results):,} rows stored in {_where(url)}"
    )
    for area, counts in recorded.items():
        console.print(f"  {area}: staff's demo records " + ", ".join(
            f"{n:,} {what}" for what, n in counts.items()))  # fmt: skip
    _print(stored_status(url, day), day, policy)
    console.print(f"[dim]done in {time.perf_counter() - started:.1f} s[/]")
    print_logins(logins)
    if serve:
        serve_app(url, host, port)


def _fresh_demo_store() -> str:
    """The store the demo fills: the embedded SQLite file, recreated so the demo is the same
    every time; with POSTLOAN_DATABASE_URL set, that database, as it is."""
    from postloan.store.config import DATABASE_URL_VAR, data_dir
    from postloan.store.db import ready

    if not os.environ.get(DATABASE_URL_VAR):
        for suffix in ("", "-wal", "-shm"):
            (data_dir() / f"postloan.sqlite{suffix}").unlink(missing_ok=True)
    return ready()


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def stored_status(url: str, day: date) -> pl.DataFrame:
    """D's account status as stored by the last run."""
    from sqlalchemy import select

    from postloan.engine.frames import ACCOUNT_STATUS
    from postloan.store import bulk
    from postloan.store.schema import account_status

    with bulk.connect(url) as conn:
        return bulk.read(
            conn,
            select(*(account_status.c[name] for name in ACCOUNT_STATUS)).where(
                account_status.c.as_of == day
            ),
            ACCOUNT_STATUS,
        )


def status(
    folder: Path = typer.Argument(
        ..., help="Folder of contract files (customers.csv, loans.csv …)."
    ),
    as_of: str = typer.Option(..., help="Business date D (YYYY-MM-DD)."),
    out: Path | None = typer.Option(None, help="Write account-status here (.csv or .parquet)."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
) -> None:
    """Compute account status as of D from contract files and print the portfolio summary."""
    policy = policy_from(policy_file)
    day = business_date(as_of)
    try:
        portfolio, _, _ = read_contract_files(folder)
    except ValueError as exc:  # a file that cannot be read or a value the contract refuses
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    result = _run_engine(portfolio, day, policy)
    _print(result, day, policy)
    if out:
        write_account_status(result, out, as_of=day, policy_version=policy.version)
        console.print(f"account-status written to {out}")


def _print(result: pl.DataFrame, day: date, policy: Policy) -> None:
    from postloan.cli.render import print_summary

    print_summary(console, summarise(result, policy), day, policy.version)
