"""`postloan demo` and `postloan status`: the engine over contract files."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from postloan.contract import read_contract_files, write_contract_files
from postloan.engine import account_status
from postloan.engine.frames import Portfolio
from postloan.policy import Policy, current_policy, load_policy
from postloan.reports.export import write_account_status
from postloan.reports.summary import summarise
from postloan.synth import generate

console = Console()


def business_date(text: str) -> date:
    """Parse --as-of: an ISO date, or a clear usage error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from None


def _policy(path: Path | None) -> Policy:
    return load_policy(path) if path else current_policy()


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


def demo(
    customers: int = typer.Option(5_000, help="Demo customers to generate (accounts ≈ 1.4×)."),
    as_of: str = typer.Option("2026-06-30", help="Business date D (YYYY-MM-DD)."),
    seed: int = typer.Option(42, help="Random seed: the same seed gives the same portfolio."),
    data: Path = typer.Option(Path("data/demo"), help="Folder for the generated contract files."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
) -> None:
    """Generate a demo portfolio, write it as contract files, read it back, compute D's status."""
    policy = _policy(policy_file)
    day = business_date(as_of)
    started = time.perf_counter()
    synthetic = generate(accounts=int(customers * 1.4), seed=seed, as_of=day)
    write_contract_files(synthetic, data, fmt="csv")
    console.print(
        f"Generated {synthetic.customers.height:,} customers, {synthetic.loans.height:,} loans, "
        f"{synthetic.cards.height:,} cards, {synthetic.payments.height:,} payments into {data}/"
    )
    portfolio, _, _ = read_contract_files(data)
    result = _run_engine(portfolio, day, policy)
    _print(result, day, policy)
    console.print(f"[dim]done in {time.perf_counter() - started:.1f} s[/]")


def status(
    folder: Path = typer.Argument(
        ..., help="Folder of contract files (customers.csv, loans.csv …)."
    ),
    as_of: str = typer.Option(..., help="Business date D (YYYY-MM-DD)."),
    out: Path | None = typer.Option(None, help="Write account-status here (.csv or .parquet)."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
) -> None:
    """Compute account status as of D from contract files and print the portfolio summary."""
    policy = _policy(policy_file)
    day = business_date(as_of)
    portfolio, _, _ = read_contract_files(folder)
    result = _run_engine(portfolio, day, policy)
    _print(result, day, policy)
    if out:
        write_account_status(result, out, as_of=day, policy_version=policy.version)
        console.print(f"account-status written to {out}")


def _print(result: pl.DataFrame, day: date, policy: Policy) -> None:
    from postloan.cli.render import print_summary

    print_summary(console, summarise(result, policy), day, policy.version)
