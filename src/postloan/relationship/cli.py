"""The relationship area's command line (`Area.cli`):
`postloan report complaints|satisfaction --from D1 --to D2 [--as-of D] [--json]`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from sqlalchemy import true

from postloan.calendar import PRC_TZ
from postloan.cli.common import business_date, policy_from
from postloan.cli.operator import authorize
from postloan.relationship.actions import RelAction
from postloan.relationship.report import MAX_DAYS, complaint_report, satisfaction_report
from postloan.store.db import engine_for, ready

console = Console()
err = Console(stderr=True)

FROM = typer.Option(..., "--from", help="First business date of the period.")
TO = typer.Option(..., "--to", help="Last business date of the period.")
JSON = typer.Option(False, "--json", help="Machine-readable output.")


def add_commands(app: typer.Typer, report: typer.Typer) -> None:
    report.command("complaints")(complaints)
    report.command("satisfaction")(satisfaction)


def _period(from_: str, to: str) -> tuple[Any, Any]:
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    if start > end or (end - start).days > MAX_DAYS:
        err.print(f"--from/--to: in order and at most {MAX_DAYS} days apart")
        raise typer.Exit(2)
    return start, end


def complaints(
    from_: str = FROM,
    to: str = TO,
    as_of: str | None = typer.Option(
        None, "--as-of", help="The clocks' date (default: today in China)."
    ),
    as_json: bool = JSON,
) -> None:
    """Complaints received in the period, their clocks and every breach (投诉处理报告)."""
    url = ready()
    authorize(url, RelAction.REPORT, "report complaints")
    start, end = _period(from_, to)
    day = business_date(as_of, "--as-of") if as_of else datetime.now(PRC_TZ).date()
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            data = complaint_report(conn, policy_from(None), start, end, day, true())
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    console.print(
        f"[bold]Complaints (投诉)[/bold] {data['from']} – {data['to']}, clocks as of "
        f"{data['as_of']}: {data['total']} received, {data['decided']} decided, "
        f"{data['root_cause_recorded']} with root cause and fix"
    )
    for key in ("by_status", "by_department", "by_reason"):
        console.print(f"{key[3:]}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))
    for b in data["breaches"]:
        console.print(
            f"breach: complaint {b['complaint_id']} ({b['department']}) "
            f"{b['status']}, deadline {b['deadline']}",
            markup=False,
        )


def satisfaction(from_: str = FROM, to: str = TO, as_json: bool = JSON) -> None:
    """CSAT and NPS with confidence intervals by branch and month (满意度)."""
    url = ready()
    authorize(url, RelAction.REPORT, "report satisfaction")
    start, end = _period(from_, to)
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            data = satisfaction_report(conn, policy_from(None), start, end, true())
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return

    def show(f: dict[str, Any], unit: str) -> str:
        if f["value"] is None:
            return "—"
        band = "" if f["low"] is None else f" [{f['low']:.1f}, {f['high']:.1f}]"
        return f"{f['value']:.1f}{unit}{band}"

    console.print(f"[bold]Satisfaction (满意度)[/bold] {data['from']} – {data['to']}")
    for g in data["groups"]:
        console.print(
            f"{g['branch_id'] or 'all'} {g['month'] or ''}: n={g['csat']['n']} "
            f"CSAT {show(g['csat'], '%')} NPS {show(g['nps'], '')}",
            markup=False,
        )
    for g in data["tiers"]:
        console.print(
            f"tier {g['tier'] or 'none'}: n={g['csat']['n']} "
            f"CSAT {show(g['csat'], '%')} NPS {show(g['nps'], '')}",
            markup=False,
        )
