"""The relationship area's command line (`Area.cli`):
`postloan report complaints|satisfaction --from D1 --to D2 [--as-of D] [--json]`;
`report satisfaction --by department [--period month|quarter]` the feedback to the
departments."""

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
from postloan.relationship.feedback import department_report
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


def satisfaction(
    from_: str = FROM,
    to: str = TO,
    by: str = typer.Option(
        "branch",
        "--by",
        help="branch: CSAT/NPS by branch, month and tier, and response rates per invitation "
        "wave; department: each department's dimensions by period with the change, low-score "
        "comments and open follow-ups.",
    ),
    period: str = typer.Option("month", "--period", help="department: month or quarter."),
    as_json: bool = JSON,
) -> None:
    """CSAT and NPS with confidence intervals by branch and month (满意度); `--by department`
    the feedback to the departments (部门反馈)."""
    url = ready()
    caller = authorize(url, RelAction.REPORT, "report satisfaction")
    start, end = _period(from_, to)
    if by not in ("branch", "department") or period not in ("month", "quarter"):
        err.print("--by: branch or department; --period: month or quarter")
        raise typer.Exit(2)
    if by == "department":
        # the comments' numbers masked as for the caller's role (the local operator: as a
        # manager's — the command line never shows them in full)
        role = caller.user.role if caller.user is not None else "manager"
        _departments(url, str(role), start, end, period, as_json)
        return
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
    for w in data["response_rates"]:
        rate = "—" if w["rate"] is None else f"{w['rate']:.1f}%"
        console.print(
            f"invitations {w['wave'] or 'all'}: {w['answered']}/{w['invited']} answered ({rate})",
            markup=False,
        )


def _departments(url: str, role: str, start: Any, end: Any, period: str, as_json: bool) -> None:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            data = department_report(conn, policy_from(None), start, end, period, true(), role)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    console.print(
        f"[bold]Feedback to the departments (部门反馈)[/bold] {data['from']} – {data['to']} "
        f"by {data['period']}"
    )
    for d in data["departments"]:
        name = d["department"] or "unowned"
        followups = d["open_followups"]["count"]
        console.print(f"[bold]{name}[/bold]: {followups} open follow-up(s)", highlight=False)
        for dim in d["dimensions"]:
            cells = []
            for p in dim["periods"]:
                if p["value"] is None:
                    cells.append(f"{p['period']} —")
                    continue
                change = "" if p["change"] is None else f" ({p['change']:+.1f})"
                cells.append(
                    f"{p['period']} n={p['n']} {p['value']:.1f}% "
                    f"[{p['low']:.1f}, {p['high']:.1f}]{change}"
                )
            console.print(f"  {dim['dimension']}: " + "; ".join(cells), markup=False)
        for c in d["comments"]:
            console.print(
                f"  {c['answered_on']} {c['customer_id']} {c['low']}: {c['comment']}",
                markup=False,
            )
