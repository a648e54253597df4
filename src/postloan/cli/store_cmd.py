"""`postloan db upgrade`, `postloan import`, `postloan run`, `postloan export`, `postloan runs
list|delete-date`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import make_url

from postloan import areas
from postloan.access.permissions import Action
from postloan.area import resolve
from postloan.cli.common import business_date, policy_from, refuse_run_dates, run_with_progress
from postloan.cli.operator import Caller, authorize
from postloan.errors import DomainError
from postloan.imports.service import KINDS, ImportFileError, import_file
from postloan.inputs import InputError, parse_date_text
from postloan.reports.store_export import ExportError, export_account_status, export_kind
from postloan.runs.liveness import fail_abandoned_runs
from postloan.runs.service import date_range
from postloan.runs.stored_dates import DateNotDeletable, delete_latest_date
from postloan.store.db import engine_for, ready
from postloan.store.migrate import head_revision
from postloan.store.schema import runs

console = Console()
err = Console(stderr=True)
db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)


PERSONAL_KINDS = {"customers", "events"}  # files that carry personal information (PIPL)
TARGET_CHARS = 64  # audit_log.target_id


def _audit(
    url: str,
    caller: Caller,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, object],
) -> None:
    """Record a command in the audit log, naming its caller (`postloan.cli.operator`). A
    target longer than the log's column (a file's path) is kept whole in the detail and
    shortened to its end in the column (PostgreSQL refuses an over-long value)."""
    from datetime import UTC, datetime

    if len(target_id) > TARGET_CHARS:
        detail = {**detail, "target": target_id}
        target_id = "…" + target_id[-(TARGET_CHARS - 1) :]

    from postloan.access.audit import record
    from postloan.store.db import engine_for

    engine = engine_for(url)
    with engine.begin() as conn:
        record(
            conn,
            actor=caller.actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
            now=datetime.now(UTC),
        )
    engine.dispose()


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations (any command also does this on an empty database)."""
    url = ready()
    authorize(url, Action.STORE_ADMIN, "db upgrade")
    console.print(f"schema at revision {head_revision()} in {_where(url)}")


def _import_kinds() -> str:
    return ", ".join([*KINDS, *areas.imports()])


def import_(
    kind: str = typer.Argument(..., help=f"One of: {_import_kinds()}, account-status."),
    file: Path = typer.Argument(
        ...,
        help="CSV (UTF-8, header row) or Parquet file; account-status: the output folder "
        "of `postloan spark run`.",
    ),
    encoding: str | None = typer.Option(
        None, help="Text encoding of a CSV file: utf-8 (the default) or gb18030 (also gbk)."
    ),
    policy_file: Path | None = typer.Option(
        None, "--policy", help="account-status: the policy TOML the files were computed with."
    ),
) -> None:
    """Import a DATA_CONTRACT file (or a business area's kind, e.g. complaints); rejected rows
    go to <file>.rejects.<ext> (exit 1). `import account-status FOLDER` publishes a cluster
    run's account status like a run."""
    if kind == "account-status":
        _import_account_status(file, policy_file)
        return
    area_kind = areas.imports().get(kind)  # a kind a business area reads (Area.imports)
    if kind not in KINDS and area_kind is None:
        err.print(f"kind: {kind!r} is not one of {_import_kinds()}, account-status")
        raise typer.Exit(2)
    url = ready()
    needed: Action | str = Action.IMPORT_RUN if area_kind is None else area_kind.action
    caller = authorize(url, needed, "import")
    try:
        if area_kind is None:
            result = import_file(kind, file, url, encoding)
        else:
            result = resolve(area_kind.loader)(url, file, encoding, caller.actor)
    except ImportFileError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
    _audit(url, caller, "import.run", "file", str(file), {
        "kind": kind, "rows": result.rows, "accepted": result.accepted,
        "unchanged": result.unchanged, "rejected": result.rejected})  # fmt: skip
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    console.print(
        f"{kind}: {result.rows:,} rows — {result.accepted:,} imported, "
        f"{result.unchanged:,} unchanged, {result.rejected:,} rejected"
    )
    if result.rejected:
        err.print(f"rejected rows with reasons: {result.rejects_file}")
        raise typer.Exit(1)


def _import_account_status(folder: Path, policy_file: Path | None) -> None:
    """The hand-back of `postloan spark run` (runs.handback): published like a run, so it
    needs the right to run (run.start), and is audited as one."""
    from postloan.runs.handback import HandBackError, import_account_status

    url = ready()
    caller = authorize(url, Action.RUN_START, "import account-status")
    policy = policy_from(policy_file)
    try:
        result = refuse_run_dates(lambda: import_account_status(url, folder, policy))
    except HandBackError as exc:
        err.print(f"refused: {exc}", markup=False)
        raise typer.Exit(1) from None
    _audit(url, caller, "run.start", "run", str(result.run_id), {
        "kind": "import", "file": str(folder), "rows": result.rows, "dates": result.dates,
        "policy_version": policy.version})  # fmt: skip
    console.print(
        f"run {result.run_id} (import): {result.dates} date(s), {result.rows:,} account-status "
        f"rows published (area steps {result.timings.get('steps', 0):.1f} s)"
    )


def run(
    as_of: str | None = typer.Option(None, help="Business date D (YYYY-MM-DD)."),
    today: bool = typer.Option(False, "--today", help="Use today's date as D (explicitly)."),
    from_: str | None = typer.Option(None, "--from", help="Backfill from this date."),
    to: str | None = typer.Option(None, "--to", help="Backfill to this date (inclusive)."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
) -> None:
    """Compute and store account status for D, or for every date from --from to --to."""
    chosen = [as_of is not None, today, from_ is not None or to is not None]
    if sum(chosen) != 1 or (chosen[2] and (from_ is None or to is None)):
        err.print("give exactly one of --as-of D, --today, or --from D1 --to D2")
        raise typer.Exit(2)
    if as_of is not None:
        dates = [business_date(as_of)]
    elif today:
        dates = [date.today()]
    else:
        first, last = business_date(from_ or "", "--from"), business_date(to or "", "--to")
        if last < first:
            err.print("--to must not be before --from")
            raise typer.Exit(2)
        dates = date_range(first, last)
    url = ready()
    caller = authorize(url, Action.RUN_START, "run")
    policy = policy_from(policy_file)
    result = refuse_run_dates(lambda: run_with_progress(url, dates, policy),
                              "--today" if today else "--as-of")  # fmt: skip
    _audit(url, caller, "run.start", "run", str(result.run_id), {
        "from": dates[0].isoformat(), "to": dates[-1].isoformat(), "rows": result.rows,
        "policy_version": policy.version})  # fmt: skip
    console.print(
        f"run {result.run_id}: {result.dates} date(s), {result.rows:,} account-status rows "
        f"(load {result.timings['load']:.1f} s, engine {result.timings['engine']:.1f} s, "
        f"write {result.timings['write']:.1f} s, area steps {result.timings.get('steps', 0):.1f} s)"
    )


def _kinds() -> str:
    return ", ".join(["account-status", *areas.exports(), *KINDS])


def export(
    kind: str = typer.Argument(..., help=f"One of: {_kinds()}."),
    out: Path = typer.Option(..., help="Output file (.csv or .parquet)."),
    as_of: str | None = typer.Option(
        None, help="Business date D (account-status and the areas' dated kinds, e.g. churn)."
    ),
) -> None:
    """Export stored data as contract files (a business area's kinds too, e.g. churn)."""
    url = ready()
    area_kind = areas.exports().get(kind)  # a kind a business area writes (Area.exports)
    personal = kind in PERSONAL_KINDS or (area_kind is not None and area_kind.personal)
    if area_kind is not None:
        needed: Action | str = area_kind.action
    else:
        needed = Action.EXPORT_PERSONAL if personal else Action.ACCOUNT_VIEW
    caller = authorize(url, needed, f"export {kind}")
    try:
        if kind == "account-status":
            if as_of is None:
                err.print("account-status needs --as-of D")
                raise typer.Exit(2)
            rows = export_account_status(url, business_date(as_of), out)
        elif kind in KINDS:
            rows = export_kind(url, kind, out)
        elif area_kind is not None:
            if area_kind.needs_as_of and as_of is None:
                err.print(f"{kind} needs --as-of D")
                raise typer.Exit(2)
            day = business_date(as_of) if as_of is not None else None
            rows = resolve(area_kind.writer)(url, out, day)
        else:
            err.print(f"kind: {kind!r} is not one of {_kinds()}")
            raise typer.Exit(2)
    except (ExportError, DomainError) as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    except OSError as exc:  # an unwritable folder, a full disk: the file, not a traceback
        err.print(f"{out}: cannot write the file ({exc.strerror or 'I/O error'})", markup=False)
        raise typer.Exit(1) from None
    action = "export.personal" if personal else "export"
    _audit(url, caller, action, "file", str(out), {"kind": kind, "rows": rows, "as_of": as_of})
    console.print(f"{kind}: {rows:,} rows written to {out}")


runs_app = typer.Typer(help="Runs and the business dates they stored.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(
    limit: int = typer.Option(20, min=1, max=1000, help="How many, newest first."),
) -> None:
    """The latest runs: kind, dates, policy version, status (a run whose process died is
    marked failed here and at every run's start)."""
    url = ready()
    authorize(url, Action.RUN_VIEW, "runs list")
    fail_abandoned_runs(url)
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.c.run_id.desc()).limit(limit)).all()
    engine.dispose()
    table = Table(title="Runs (newest first)")
    for column in ("run", "kind", "from", "to", "policy", "status", "rows", "error"):
        table.add_column(column, justify="right" if column in ("run", "rows") else "left",
                         no_wrap=column != "error")  # fmt: skip
    for r in rows:
        table.add_row(str(r.run_id), r.kind, str(r.date_from)[:10], str(r.date_to)[:10],
                      r.policy_version[:12], r.status, "" if r.rows is None else f"{r.rows:,}",
                      (r.error or "")[:80])  # fmt: skip
    console.print(table)


@runs_app.command("delete-date")
def runs_delete_date(
    as_of: str = typer.Option(..., help="The stored business date to delete (the latest)."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
) -> None:
    """Delete the latest stored business date: its account status and everything the runs
    derived from it (cases are rebuilt from the date before). Audited; exit 2 when refused
    (a date that is not stored, or not the latest: delete newer dates first)."""
    try:  # any date: the one to delete may be the far-future typo a window now refuses
        day = parse_date_text(as_of, "--as-of")
    except InputError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--as-of") from None
    url = ready()
    caller = authorize(url, Action.RUN_START, "runs delete-date")
    try:
        deleted = delete_latest_date(url, day, policy_from(policy_file), caller.actor)
    except DateNotDeletable as exc:
        err.print(str(exc).replace("as_of:", "--as-of:", 1))
        raise typer.Exit(2) from None
    latest = deleted.latest.isoformat() if deleted.latest else "none"
    console.print(
        f"deleted {day.isoformat()}: {deleted.rows:,} account-status rows (run {deleted.run_id}); "
        f"latest stored date now {latest}"
    )
