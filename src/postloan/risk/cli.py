"""Risk's command line (`Area.cli`): `postloan report warnings --from D1 --to D2 [--json]` —
the back-test of every early-warning signal over the stored dates in the period (figures only,
no customer) —, the model registry's `postloan model register|validate|approve|retire|list`
(added to the core's `model` group, whose fit and score commands touch no store) and
`postloan report models [--model ID]`."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from postloan.cli.common import business_date, policy_from
from postloan.cli.operator import authorize
from postloan.risk.actions import RiskAction
from postloan.risk.read import backtest_report
from postloan.store.db import engine_for, ready

console = Console()
err = Console(stderr=True)


def add_commands(app: typer.Typer, report: typer.Typer) -> None:
    report.command("warnings")(warnings)
    from postloan.risk import models_cli

    models_cli.add_commands(app, report)


def warnings(
    from_: str = typer.Option(..., "--from", help="First business date of the period."),
    to: str = typer.Option(..., "--to", help="Last business date of the period."),
    as_json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Back-test of the early-warning signals on the stored dates of the period: precision and
    recall for a 90+ DPD onset within each horizon, median lead time, alerts per officer per
    month, and overlap between signals (docs/risk.md)."""
    url = ready()
    authorize(url, RiskAction.BACKTEST, "report warnings")
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    if start > end:
        err.print("--from: is after --to", markup=False)
        raise typer.Exit(2)
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            results, overlap = backtest_report(conn, policy_from(None), start, end)
    finally:
        engine.dispose()
    if as_json_:
        data = {"date_from": start.isoformat(), "date_to": end.isoformat(),
                "results": results.to_dicts(), "overlap": overlap.to_dicts()}  # fmt: skip
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=1))
        return
    table = Table(title=f"Early-warning back-test (预警回测) {start} – {end}")
    for column in ("signal", "horizon", "alerts", "judged", "precision", "onsets", "recall",
                   "median lead (d)", "alerts/officer/month"):  # fmt: skip
        table.add_column(column, justify="left" if column == "signal" else "right")
    for r in results.to_dicts():
        table.add_row(r["signal_id"], f"{r['horizon_months']}m", str(r["alerts"]),
                      str(r["eligible"]), _pct(r["precision"]), str(r["onsets"]),
                      _pct(r["recall"]), _num(r["median_lead_days"]),
                      f"{r['alerts_per_officer_month']:.2f}")  # fmt: skip
    console.print(table)
    pairs = Table(title="Overlap between signals (Jaccard of alerted customers)")
    for column in ("signal", "signal", "jaccard"):
        pairs.add_column(column)
    for o in overlap.to_dicts():
        if o["jaccard"]:
            pairs.add_row(o["signal_a"], o["signal_b"], f"{o['jaccard']:.2f}")
    console.print(pairs)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"
