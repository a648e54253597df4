"""`postloan report compliance` (and, with the KPIs, `postloan report collections`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from postloan.access.permissions import Action
from postloan.cli.engine_cmd import business_date, policy_from
from postloan.cli.operator import authorize
from postloan.collections.compliance import ComplianceReport, compliance_report
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status

console = Console()
err = Console(stderr=True)
report_app = typer.Typer(help="Collection reports.", no_args_is_help=True)

COMMAND = "report compliance|collections"


def _latest(url: str) -> date | None:
    engine = engine_for(url)
    with engine.connect() as conn:
        value = conn.execute(select(func.max(account_status.c.as_of))).scalar()
    engine.dispose()
    return None if value is None else date.fromisoformat(str(value)[:10])


@report_app.command("compliance")
def compliance(
    as_of: str | None = typer.Option(None, help="The week's last day; default the latest run."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy file (TOML)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Contact compliance for the 7 days up to D: cases below the weekly floor, contacts
    refused by the policy (with the rules), recorded contacts above a cap. Exit 1 when any."""
    url = ready()
    authorize(url, Action.REPORT_COLLECTIONS, COMMAND)
    day = business_date(as_of) if as_of else _latest(url)
    if day is None:
        err.print("no stored status yet: run a date first (postloan run --as-of D)")
        raise typer.Exit(2)
    engine = engine_for(url)
    with engine.connect() as conn:
        report = compliance_report(conn, day, policy_from(policy_file))
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(_as_dict(report), ensure_ascii=False, default=str, indent=1))
    else:
        _print(report)
    if report.below_floor or report.refused or report.above_cap:
        raise typer.Exit(1)


def _as_dict(report: ComplianceReport) -> dict[str, object]:
    return {
        "week_ending": report.week_ending.isoformat(),
        "below_floor": report.below_floor,
        "refused": report.refused,
        "above_cap": report.above_cap,
    }


def _print(report: ComplianceReport) -> None:
    console.print(
        f"[bold]Contact compliance (催收合规), week ending {report.week_ending}[/bold]: "
        f"{len(report.below_floor)} cases below the weekly floor, "
        f"{len(report.refused)} contacts refused, {len(report.above_cap)} above a cap"
    )
    if report.below_floor:
        table = Table(title="Below the weekly contact floor (低于最低联系频次)")
        for col in ("case", "customer", "bucket", "floor", "contacts"):
            table.add_column(col, justify="right" if col in ("floor", "contacts") else "left")
        for r in report.below_floor[:200]:
            table.add_row(str(r["case_id"]), r["customer_id"], r["bucket"], str(r["floor"]),
                          str(r["contacts"]))  # fmt: skip
        console.print(table)
        if len(report.below_floor) > 200:
            console.print(f"… and {len(report.below_floor) - 200} more (use --json for all)")
    for title, rows in (("Refused (被拒绝的联系)", report.refused),
                        ("Above a cap (超限)", report.above_cap)):  # fmt: skip
        if rows:
            table = Table(title=title)
            for col in ("customer", "at", "rules"):
                table.add_column(col)
            for r in rows:
                table.add_row(r["customer_id"], str(r["at"]), ", ".join(r["rules"]))
            console.print(table)
