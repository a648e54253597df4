"""Management's command line (`Area.cli`): `postloan report pack --from D1 --to D2 [--json]
[--xlsx FILE] [--csv DIR] [--parquet DIR]` — the portfolio pack for the month-ends in the
period; files written are audited like every export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import true

from postloan.access import audit
from postloan.cli.common import business_date, policy_from
from postloan.cli.operator import authorize
from postloan.errors import DomainError
from postloan.management import report, service
from postloan.management.actions import ManagementAction
from postloan.management.export import workbook_bytes, write_tables
from postloan.store import bulk
from postloan.store.db import engine_for, ready

console = Console()
err = Console(stderr=True)


def add_commands(app: typer.Typer, report_group: typer.Typer) -> None:
    report_group.command("pack")(pack)


def pack(
    from_: str = typer.Option(..., "--from", help="First date of the period (its month counts)."),
    to: str = typer.Option(..., "--to", help="Last date of the period."),
    as_json_: bool = typer.Option(False, "--json", help="The whole pack as JSON on stdout."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the Excel workbook here."),
    csv: Path | None = typer.Option(None, "--csv", help="Write one CSV per section here."),
    parquet: Path | None = typer.Option(None, "--parquet", help="One Parquet per section."),
) -> None:
    """The portfolio pack (考核与监控报表): KPIs by dimension and month under the policy's
    definitions, roll rates, vintages, dormant cards and the staff ranking."""
    url = ready()
    caller = authorize(url, ManagementAction.PACK, "report pack")
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    policy = policy_from(None)
    engine = engine_for(url)
    try:
        with engine.connect() as conn, bulk.connect(url) as fast:
            built = service.build(conn, policy, start, end, true(), source=fast)
        written: list[str] = []
        if xlsx is not None:
            xlsx.write_bytes(workbook_bytes(built))
            written.append(str(xlsx))
        for folder, fmt in ((csv, "csv"), (parquet, "parquet")):
            if folder is not None:
                written += [str(p) for p in write_tables(built, folder, fmt)]  # type: ignore[arg-type]
        if written:
            with engine.begin() as conn:
                audit.record(
                    conn,
                    actor=caller.actor,
                    action="export",
                    target_type="management_pack",
                    target_id=f"{start}..{end}",
                    detail={
                        "files": written,
                        "runs": built.runs,
                        "definitions_version": built.definitions_version,
                    },
                    now=datetime.now(UTC),
                )
    except DomainError as exc:
        err.print(f"--{exc.field or 'from'}: {exc.message}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"cannot write: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if as_json_:
        typer.echo(json.dumps(report.as_data(built), ensure_ascii=False, default=str))
        return
    whole = built.figures.filter(pl.col("dimension") == "portfolio")
    table = Table(title=f"Portfolio pack {start} → {end} (definitions {built.definitions_version})")
    kpis = list(built.definitions)
    for column in ("month", "accounts", "outstanding", *kpis):
        table.add_column(column, justify="left" if column == "month" else "right")
    for row in whole.iter_rows(named=True):
        table.add_row(
            row["month"],
            str(row["accounts"]),
            f"{row['outstanding_principal'] / 100:,.2f}",
            *["-" if row[k] is None else f"{row[k]:.2%}" for k in kpis],
        )
    console.print(table)
    for path in written:
        console.print(f"written: {path}")
