"""Management's command line (`Area.cli`): `postloan report pack --from D1 --to D2 [--json]
[--xlsx FILE] [--csv DIR] [--parquet DIR]` — the portfolio pack for the month-ends in the
period; files written are audited like every export. `postloan whatif --policy CANDIDATE.toml
--from D1 --to D2 [--out FILE.xlsx|.csv]` — the policy what-if (`management.whatif`): the
differences per figure on stdout, progress on stderr, audited."""

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
from postloan.management import report, service, whatif, whatif_export
from postloan.management.actions import ManagementAction
from postloan.management.export import workbook_bytes, write_tables
from postloan.policy import PolicyError
from postloan.policy.loader import load_policy
from postloan.store import bulk
from postloan.store.db import engine_for, ready

console = Console()
err = Console(stderr=True)


def add_commands(app: typer.Typer, report_group: typer.Typer) -> None:
    report_group.command("pack")(pack)
    app.command("whatif")(whatif_command)


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


def whatif_command(
    policy_file: Path = typer.Option(..., "--policy", help="The candidate policy (TOML)."),
    from_: str = typer.Option(..., "--from", help="First stored date to replay."),
    to: str = typer.Option(..., "--to", help="Last stored date to replay."),
    out: Path | None = typer.Option(None, "--out", help="Write every figure: .xlsx or .csv."),
    all_rows: bool = typer.Option(False, "--all", help="Print unchanged rows too."),
) -> None:
    """Policy what-if: replay the stored history under a candidate policy beside the policy in
    force (classes, NPL ratio, buckets, collection cases and workload, tiers, risk signals).
    Writes no stored result; the what-if itself is audited."""
    url = ready()
    caller = authorize(url, ManagementAction.WHATIF, "whatif")
    start, end = business_date(from_, "--from"), business_date(to, "--to")
    if out is not None and out.suffix.lower() not in (".xlsx", ".csv"):
        err.print("--out: must end in .xlsx or .csv", markup=False)
        raise typer.Exit(2)
    try:
        candidate = load_policy(policy_file)
    except PolicyError as exc:
        err.print(f"--policy {policy_file}: not a valid policy:", markup=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(2) from None
    in_force = policy_from(None)

    def progress(what: str, done: int, total: int) -> None:
        unit = "areas" if what == "areas" else "dates"
        err.print(f"whatif: {what} {done}/{total} {unit}", markup=False, highlight=False)

    try:
        found = whatif.compute(url, in_force, candidate, start, end, progress=progress)
        if out is not None:
            whatif_export.write(found, out)
        engine = engine_for(url)
        try:
            with engine.begin() as conn:
                whatif.audit_whatif(conn, caller.actor, found, f"cli:{policy_file.name}")
        finally:
            engine.dispose()
    except DomainError as exc:
        err.print(f"--{exc.field or 'from'}: {exc.message}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"cannot write: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    _print_whatif(found, all_rows)
    if out is not None:
        console.print(f"written: {out}")


def _print_whatif(found: whatif.WhatIf, all_rows: bool) -> None:
    console.print(
        f"What-if {found.start} → {found.end}: {len(found.dates)} stored dates; policy in force"
        f" {found.in_force_version[:12]}, candidate {found.candidate_version[:12]}",
        markup=False, highlight=False,
    )  # fmt: skip
    rows = found.long()
    if not all_rows:
        rows = rows.filter(pl.col("diff") != 0)
    if rows.is_empty():
        console.print("No difference in any figure.")
    else:
        table = Table(title="Differences (candidate − in force; amounts in minor units)")
        for column in ("area", "figure", "key", "measure", "in force", "candidate", "diff"):
            table.add_column(column, justify="right" if column in ("in force", "candidate",
                                                                 "diff") else "left")  # fmt: skip
        for r in rows.iter_rows():
            table.add_row(*r[:4], *(f"{v:,.6g}" if abs(v) < 1 else f"{v:,.0f}" for v in r[4:]))
        console.print(table)
    for area, notes in found.notes.items():
        for note in notes:
            console.print(f"note ({area}): {note}", markup=False, highlight=False)
    if found.not_replayed:
        console.print(f"not replayed: {', '.join(found.not_replayed)}", markup=False)
