"""Tiering's command line (`Area.cli`): `postloan report tiers --from D1 --to D2 [--json]` —
the distribution and RFM segments on D2, the transition matrix D1 → D2 and the review per
month, the roll rates per DPD bucket and the loss rate per month and tier. (`postloan export
tiers` is the core export command dispatching to `tiering.export`.)"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import true

from postloan.cli.common import business_date
from postloan.cli.operator import authorize
from postloan.errors import DomainError
from postloan.policy.loader import current_policy
from postloan.store.db import engine_for, ready
from postloan.tiering import report
from postloan.tiering.actions import TieringAction
from postloan.tiering.rules.review import ORDER

console = Console()
err = Console(stderr=True)


def add_commands(app: typer.Typer, report_group: typer.Typer) -> None:
    report_group.command("tiers")(tiers)


def tiers(
    from_: str = typer.Option(..., "--from", help="A tiered business date (the matrix's start)."),
    to: str = typer.Option(..., "--to", help="A later tiered date (distribution, matrix end)."),
    as_json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Tiers (客户分层): the distribution and RFM segments on --to, the transition matrix from
    --from to --to, and per month and tier the NPL rate and the next month's NPL and churn
    rates."""
    url = ready()
    authorize(url, TieringAction.REPORT, "report tiers")
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            data: dict[str, Any] = {
                "distribution": report.distribution(conn, end, true()),
                "transitions": report.transition_matrix(conn, start, end, true()),
                "review": report.review(conn, start, end, true()),
                "rolls": report.roll_and_loss(conn, start, end, true(), current_policy()),
            }
    except DomainError as exc:
        err.print(f"--{exc.field or 'from'}: {exc.message}", markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if as_json_:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=1))
        return
    dist = data["distribution"]
    table = Table(title=f"Tiers on {dist['as_of']} (客户分层)")
    for column in ("tier", "customers", "balance"):
        table.add_column(column, justify="left" if column == "tier" else "right")
    for row in dist["tiers"]:
        table.add_row(row["tier"], str(row["customers"]), f"{row['balance'] / 100:,.2f}")
    console.print(table)
    segs = Table(title="RFM segments")
    for column in ("segment", "customers", "mean R", "mean F", "mean M"):
        segs.add_column(column)
    for row in dist["segments"]:
        segs.add_row(row["segment"], str(row["customers"]), str(row["mean_r"]),
                     str(row["mean_f"]), str(row["mean_m"]))  # fmt: skip
    console.print(segs)
    cells = {(c["from_tier"], c["to_tier"]): c["customers"] for c in data["transitions"]["cells"]}
    matrix = Table(title=f"Transitions {start} → {end} (rows: from; columns: to)")
    matrix.add_column("from \\ to")
    for t in ORDER:
        matrix.add_column(t, justify="right")
    for a in ORDER:
        matrix.add_row(a, *[str(cells.get((a, b), "")) for b in ORDER])
    console.print(matrix)
    rev = Table(title="Review per month and tier")
    for column in ("month", "tier", "customers", "NPL rate", "next NPL", "next churn"):
        rev.add_column(column)

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    for row in data["review"]:
        rev.add_row(row["month"], row["tier"], str(row["customers"]), pct(row["npl_rate"]),
                    pct(row["next_npl_rate"]), pct(row["next_churn_rate"]))  # fmt: skip
    console.print(rev)
    loss = {(r["month"], r["tier"]): r["loss_rate"] for r in data["rolls"]["losses"]}
    roll = Table(title="Roll rates per month and tier (迁徙率: share of the bucket's balance in a "
                 "worse bucket a month later) and loss rate (损失率)")  # fmt: skip
    buckets = data["rolls"]["buckets"][:-1]
    for column in ("month", "tier", *buckets, "loss"):
        roll.add_column(column)
    by_bucket = {(r["month"], r["tier"], r["bucket"]): r["roll_rate"]
                 for r in data["rolls"]["rolls"]}  # fmt: skip
    for month, tier in loss:
        rates = [pct(by_bucket[(month, tier, b)]) if (month, tier, b) in by_bucket else ""
                 for b in buckets]  # fmt: skip
        roll.add_row(month, tier, *rates, pct(loss[(month, tier)]))
    console.print(roll)
