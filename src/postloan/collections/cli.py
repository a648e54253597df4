"""Collections' command line (the area's `cli` hook): `postloan report compliance` and
`postloan report collections` (KPIs), added to the shared `postloan report` group."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from postloan.cli.engine_cmd import business_date, policy_from
from postloan.cli.operator import authorize
from postloan.collections.actions import CollectionsAction
from postloan.collections.compliance import ComplianceReport, compliance_report
from postloan.collections.kpis import CollectionKpis, KpiError, collection_kpis
from postloan.money import format_amount
from postloan.store.dates import latest_stored_date
from postloan.store.db import engine_for, ready

console = Console()
err = Console(stderr=True)


def add_commands(app: typer.Typer, report: typer.Typer) -> None:
    """Collections' commands (collections' `Area.cli`): two reports in `postloan report`."""
    report.command("compliance")(compliance)
    report.command("collections")(collections_report)


COMMAND = "report compliance|collections"


def _latest(url: str) -> date | None:
    engine = engine_for(url)
    with engine.connect() as conn:
        day = latest_stored_date(conn)
    engine.dispose()
    return day


def compliance(
    as_of: str | None = typer.Option(None, help="The week's last day; default the latest run."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy file (TOML)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Contact compliance for the 7 days up to D: cases below the weekly floor, contacts
    refused by the policy (with the rules), recorded contacts above a cap. Exit 1 when any."""
    url = ready()
    authorize(url, CollectionsAction.REPORT_COLLECTIONS, COMMAND)
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


def collections_report(
    from_: str = typer.Option(..., "--from", help="First business date of the period."),
    to: str = typer.Option(..., "--to", help="Last business date of the period."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy file (TOML)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Collection KPIs for the period: recovery and overdue reduction rates (split into cash,
    write-off, restructuring, transfer), cost ratio, promise-kept rate, cure rate by bucket,
    contacts per case — for the portfolio, each team and each collector; strategies compared."""
    url = ready()
    authorize(url, CollectionsAction.REPORT_COLLECTIONS, COMMAND)
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            kpis = collection_kpis(conn, start, end, policy_from(policy_file))
    except KpiError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(kpis_as_dict(kpis), ensure_ascii=False, default=str, indent=1))
        return
    console.print(
        f"[bold]Collection KPIs (催收考核指标) {kpis.start} – {kpis.end}[/bold] "
        f"(opening {kpis.opening}, closing {kpis.closing})"
    )
    table = Table(title="By portfolio, team and collector")
    heads = {
        "level": "level", "key": "who", "opening_overdue": "opening overdue 期初逾期",
        "cash_recovered": "recovered 清收", "recovery_rate": "清收率",
        "reduction_rate": "压降率", "reduction_write_off": "of which write-off 核销",
        "cost_ratio": "cost ratio 成本率", "promise_kept_rate": "promise kept 守约率",
        "contacts_per_case": "contacts/case",
    }  # fmt: skip
    for col in heads.values():
        table.add_column(col, justify="left" if col in ("level", "who") else "right")
    for row in kpis.table.iter_rows(named=True):
        table.add_row(*(_cell(name, row[name]) for name in heads))
    console.print(table)
    cure = Table(title="Cure rate by bucket (出催率)")
    for col in ("bucket", "accounts", "opening principal", "cured principal", "cure rate"):
        cure.add_column(col, justify="left" if col == "bucket" else "right")
    for row in kpis.cure_by_bucket.iter_rows(named=True):
        cure.add_row(row["bucket"], f"{row['accounts']:,}", _money(row["opening_principal"]),
                     _money(row["cured_principal"]), _pct(row["cure_rate"]))  # fmt: skip
    console.print(cure)
    if kpis.strategies.height:
        strategies = Table(title="Strategies (champion / challenger)")
        for col in ("stage", "strategy", "arm", "spells", "cure rate", "recovery rate"):
            strategies.add_column(col)
        for row in kpis.strategies.iter_rows(named=True):
            strategies.add_row(row["stage"], row["strategy"], row["arm"], str(row["spells"]),
                               _pct(row["cure_rate"]), _pct(row["recovery_rate"]))  # fmt: skip
        console.print(strategies)


def kpis_as_dict(kpis: CollectionKpis) -> dict[str, object]:
    return {
        "from": kpis.start.isoformat(), "to": kpis.end.isoformat(),
        "opening": kpis.opening.isoformat(), "closing": kpis.closing.isoformat(),
        "rows": kpis.table.to_dicts(), "cure_by_bucket": kpis.cure_by_bucket.to_dicts(),
        "strategies": kpis.strategies.to_dicts(),
    }  # fmt: skip


def _money(cents: int) -> str:
    whole, frac = format_amount(int(cents)).split(".")
    return f"{int(whole):,}.{frac}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _cell(name: str, value: object) -> str:
    if name.endswith("_rate") or name == "cost_ratio":
        return _pct(value)  # type: ignore[arg-type]
    if name == "contacts_per_case":
        return "—" if value is None else f"{value:.2f}"
    if isinstance(value, int):
        return _money(value)
    return str(value)
