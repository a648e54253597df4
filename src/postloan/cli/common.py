"""What several commands share: date and policy options, and a run with a progress bar.

Kept apart from the command modules so they need not import each other (`engine_cmd`'s demo
runs like `store_cmd`'s run; `store_cmd` and the areas' reports, e.g. `collections.cli`, parse
dates like `engine_cmd`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from postloan.inputs import InputError, parse_business_date
from postloan.policy import Policy, current_policy, load_policy
from postloan.runs.service import RunResult, run_dates
from postloan.runs.window import RunDateError

console = Console()
err = Console(stderr=True)

T = TypeVar("T")


def business_date(text: str, option: str = "--as-of") -> date:
    """Parse a date option: YYYY-MM-DD within the business range (`postloan.inputs`), or a
    usage error naming the option (exit 2, no traceback)."""
    try:
        return parse_business_date(text, option)
    except InputError as exc:
        raise typer.BadParameter(exc.reason, param_hint=option) from None


def policy_from(path: Path | None) -> Policy:
    return load_policy(path) if path else current_policy()


def refuse_run_dates(call: Callable[[], T], single: str = "--as-of") -> T:
    """`call`, or exit 2 with the message when its run dates are outside the policy's window
    (`runs.window`): nothing has been written then."""
    try:
        return call()
    except RunDateError as exc:
        option = {"as_of": single, "from": "--from", "to": "--to"}.get(exc.field, exc.field)
        err.print(f"{option}: {exc.message}")
        raise typer.Exit(2) from None


def run_with_progress(url: str, dates: list[date], policy: Policy) -> RunResult:
    """`run_dates` with its progress shown: a bar on a terminal (dates computed, then the step
    running); in a log (cron, a pipe) one line per window of dates and per step, with times —
    a night's run at a million accounts takes long enough that silence looks like a hang."""
    if not console.is_terminal:
        return run_dates(
            url, dates, policy,
            lambda done, total: console.print(f"run: {done}/{total} dates computed"),
            on_step=lambda name, took: None if took is None
            else console.print(f"run: step {name} done in {took:.1f} s"),
        )  # fmt: skip
    with Progress(
        TextColumn("[bold]run"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("dates", total=len(dates))
        return run_dates(
            url,
            dates,
            policy,
            lambda done, total: bar.update(task, completed=done),
            on_step=lambda name, took: bar.update(
                task, description="dates" if took is not None else f"dates · step {name}"
            ),
        )
