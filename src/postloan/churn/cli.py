"""Churn's command line (`Area.cli`): `postloan report churn --from D1 --to D2 [--json]`.
(`postloan export churn` is the core export command dispatching to `churn.export`.)"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from postloan.churn.actions import ChurnAction
from postloan.churn.evaluation import win_back_rates
from postloan.churn.report import as_json, churn_report
from postloan.churn.rules.frames import RULES
from postloan.cli.common import business_date, policy_from
from postloan.cli.operator import authorize
from postloan.errors import DomainError
from postloan.store.db import engine_for, ready

console = Console()
err = Console(stderr=True)


def add_commands(app: typer.Typer, report: typer.Typer) -> None:
    report.command("churn")(churn)


def churn(
    from_: str = typer.Option(..., "--from", help="First business date of the period."),
    to: str = typer.Option(..., "--to", help="Last business date of the period."),
    as_json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Churn KPIs for the period: churn rate per rule by customers and by balance, per branch
    and month (on each month's last churn date); the pool's size, entries and exits by reason.
    Win-back rate of the exits: treated episodes against the random holdout."""
    url = ready()
    authorize(url, ChurnAction.REPORT, "report churn")
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            kpis = churn_report(conn, start, end)
            win_back = win_back_rates(conn, start, end, policy_from(None))
    except DomainError as exc:
        err.print(f"--{exc.field or 'from'}: {exc.message.split(': ', 1)[-1]}", markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    data = as_json(kpis, win_back)
    if as_json_:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=1))
        return
    console.print(f"[bold]Churn KPIs (流失客户指标)[/bold] {data['date_from']} – {data['date_to']}")
    rates = Table(title="Churn rate by rule (customers / balance), all branches (*) and each")
    for column in ("month", "as of", "branch", "customers", "pool", *RULES):
        rates.add_column(column, justify="left" if column in ("month", "as of", "branch")
                         else "right")  # fmt: skip
    for row in data["rates"]:
        rates.add_row(row["month"], row["as_of"], row["branch_id"], str(row["customers"]),
                      str(row["any_customers"]),
                      *[_pair(row[f"{k}_rate_customers"], row[f"{k}_rate_balance"])
                        for k in RULES])  # fmt: skip
    console.print(rates)
    flows = Table(title="Pool size and flows (信息库规模与进出)")
    for column in ("month", "branch", "pool", "entries", "exits", "by reason"):
        flows.add_column(column)
    for row in data["flows"]:
        reasons = ", ".join(f"{k[6:]} {v}" for k, v in row.items()
                            if k.startswith("exits_") and v)  # fmt: skip
        flows.add_row(row["month"], row["branch_id"], str(row["pool_size"]), str(row["entries"]),
                      str(row["exits"]), reasons)  # fmt: skip
    console.print(flows)

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    t, h = win_back["treated"], win_back["holdout"]
    console.print(
        f"win-back rate (挽回率): {pct(win_back['win_back_rate'])} of exits; treated "
        f"{pct(t['rate'])} ({t['won_back']}/{t['exits']}), holdout {pct(h['rate'])} "
        f"({h['won_back']}/{h['exits']})"
    )


def _pair(customers: float | None, balance: float | None) -> str:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    return f"{pct(customers)} / {pct(balance)}"
