"""`postloan model register|validate|approve|retire|list` and `postloan report models`: the
model registry on the command line. Unlike `model fit-scorecard|score` (files in, files out)
these touch the store, so each needs its permission action (`risk.actions.COMMANDS`), and the
audit log names the caller. A model is named by its id or a unique prefix of at least 8
characters (`registry.resolve`).

Exit codes: 0 done; 1 refused by the registry (state, maker-checker, validation below the
policy's minimum, bad input); 2 a file cannot be read; 3 not permitted (`cli.operator`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection

from postloan.cli.common import policy_from
from postloan.cli.operator import Caller, authorize
from postloan.errors import DomainError
from postloan.policy.risk import MODEL_KINDS
from postloan.risk import registry
from postloan.risk.actions import RiskAction
from postloan.store.db import engine_for, ready

if TYPE_CHECKING:
    import polars as pl

    from postloan.modelling import ScorecardModel

console = Console()


def add_commands(app: typer.Typer, report: typer.Typer) -> None:
    group = next((g.typer_instance for g in app.registered_groups if g.name == "model"), None)
    if group is None:  # pragma: no cover - the core always has `postloan model`
        group = typer.Typer(help="Scoring models.", no_args_is_help=True)
        app.add_typer(group, name="model")
    group.command("fit-behaviour")(fit_behaviour)
    group.command("fit-churn")(fit_churn)
    group.command("register")(register)
    group.command("validate")(validate)
    group.command("run-validations")(run_validations)
    group.command("approve")(approve)
    group.command("retire")(retire)
    group.command("list")(list_)
    report.command("models")(models_report)


@contextmanager
def _transaction(action: RiskAction, what: str) -> Iterator[tuple[Connection, Caller]]:
    url = ready()
    caller = authorize(url, action, what)
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            yield conn, caller
    except DomainError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def fit_behaviour(
    out: Path = typer.Option(..., "--out", help="Model directory to write (model.json)."),
    seed: int = typer.Option(42, help="Seed for every seeded step."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file (default: in force)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a model already in --out."),
) -> None:
    """Fit the behaviour scorecard (RK-2) on the store's status history: monthly snapshots,
    target "90+ DPD within 12 months" (policy), the latest months held out of time. Prints
    training and out-of-time AUC/KS; register the model with `postloan model register`."""
    from postloan.modelling import ModellingError
    from postloan.modelling.model_dir import MODEL_FILE, save_model
    from postloan.risk.behaviour import fit_behaviour as fit
    from postloan.risk.behaviour import training_data

    if (out / MODEL_FILE).exists() and not replace:
        typer.echo(f"error: {out / MODEL_FILE} exists: pass --replace to overwrite it", err=True)
        raise typer.Exit(2)
    rules = policy_from(policy)
    with _transaction(RiskAction.MODEL_MANAGE, "model fit-behaviour") as (conn, _caller):
        data = training_data(conn, rules)
    if data.is_empty():
        typer.echo("error: no stored history with a known outcome to fit on", err=True)
        raise typer.Exit(1)
    try:
        model = fit(data, rules, seed=seed)
    except ModellingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    save_model(model, out)
    _fitted(data, model, out)


def fit_churn(
    out: Path = typer.Option(..., "--out", help="Model directory to write (model.json)."),
    months: int = typer.Option(6, "--months", min=1, max=24, help="The horizon: 3 or 6 months."),
    seed: int = typer.Option(42, help="Seed for every seeded step."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file (default: in force)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a model already in --out."),
) -> None:
    """Fit the churn propensity scorecard (issue 13 item 3) on the store's history: the
    probability that a customer meets a churn rule (identified by the churn area) within
    MONTHS months; the latest months held out of time. Register it as kind `churn`."""
    from postloan.modelling import ModellingError
    from postloan.modelling.model_dir import MODEL_FILE, save_model
    from postloan.risk.behaviour import churn_training_data
    from postloan.risk.behaviour import fit_churn as fit

    if (out / MODEL_FILE).exists() and not replace:
        typer.echo(f"error: {out / MODEL_FILE} exists: pass --replace to overwrite it", err=True)
        raise typer.Exit(2)
    rules = policy_from(policy)
    with _transaction(RiskAction.MODEL_MANAGE, "model fit-churn") as (conn, _caller):
        data = churn_training_data(conn, months)
    if data.is_empty():
        typer.echo("error: no stored history with a known outcome to fit on", err=True)
        raise typer.Exit(1)
    try:
        model = fit(data, rules, months, seed=seed)
    except ModellingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    save_model(model, out)
    _fitted(data, model, out)


def _fitted(data: pl.DataFrame, model: ScorecardModel, out: Path) -> None:
    from postloan.modelling.model_dir import MODEL_FILE

    m = model.metrics
    oot = (f"out-of-time AUC {m['oot_auc']:.4f}  KS {m['oot_ks']:.4f}" if "oot_auc" in m
           else "no out-of-time sample with both outcomes")  # fmt: skip
    typer.echo(f"{data.height} observations ({int(data['bad'].sum())} bad), trained on "
               f"{model.data_window}: AUC {m['auc']:.4f}  KS {m['ks']:.4f}; {oot}")  # fmt: skip
    typer.echo(f"model written to {out / MODEL_FILE}; id {registry.model_id(model)}")


def register(
    model_dir: Path = typer.Option(..., "--model", help="Model directory (model.json)."),
    kind: str = typer.Option(..., "--kind", help=f"One of {', '.join(MODEL_KINDS)}."),
    name: str = typer.Option(..., "--name", help="A name people recognise (≤ 64 characters)."),
    note: str = typer.Option(..., "--note", help="What it is and why it was fitted."),
) -> None:
    """Register a fitted model as a draft; prints its model id (the SHA-256 of its model.json
    without its metrics, which the registry measures itself at validation: registering the
    same model again changes nothing)."""
    path = model_dir / "model.json"
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {path}: cannot be read ({exc})", err=True)
        raise typer.Exit(2) from None
    with _transaction(RiskAction.MODEL_MANAGE, "model register") as (conn, caller):
        model = registry.parse_model(text)
        done = registry.register(conn, model, kind, name, note, caller.actor, _now())
    verb = "registered" if done.created else "already registered"
    typer.echo(f"{verb}: {done.model_id} ({done.status})")


def validate(
    model_ref: str = typer.Argument(..., help="Model id or a unique prefix (≥ 8 characters)."),
    note: str = typer.Option(..., "--note", help="The validator's conclusion."),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Held-out data (.csv/.parquet) with the model's inputs and target; "
        "without it, a behaviour or churn model is measured on the store's history "
        "(the months after its training window); the file's own metrics are never used.",
    ),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file (default: in force)."),
) -> None:
    """Draft → validated when the out-of-time AUC reaches the policy's minimum."""
    rules = policy_from(policy)
    frame = None
    if data is not None:
        from postloan.cli.model_cmd import _read

        frame = _read(data)
    with _transaction(RiskAction.MODEL_MANAGE, "model validate") as (conn, caller):
        mid = registry.resolve(conn, model_ref)
        measured = None
        if frame is not None:
            measured = {**registry.measure(registry.stored_model(registry.row(conn, mid)), frame),
                        "file": data.name if data else None}  # fmt: skip
        evidence = registry.validate(conn, rules, mid, note, caller.actor, _now(), measured)
    typer.echo(f"validated: {mid} — out-of-time AUC {evidence['auc']:.4f} "
               f"(minimum {evidence['min_auc']:.2f})")  # fmt: skip


def run_validations(
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="Requests to measure."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file (default: in force)."),
) -> None:
    """Measure the validation requests made through the API (`POST …/validate`), oldest
    first: each model on the store's history (the months after its training window); a model
    whose out-of-time AUC reaches the policy's minimum is validated in its requester's name,
    otherwise the request fails with the reason. Run it after the daily run, like any batch
    job; the API reads the outcome."""
    from postloan.risk.validation_jobs import run_pending

    rules = policy_from(policy)
    url = ready()
    caller = authorize(url, RiskAction.MODEL_MANAGE, "model run-validations")
    engine = engine_for(url)
    try:
        finished = run_pending(engine, rules, caller.actor, _now, limit)
    finally:
        engine.dispose()
    for r in finished:
        outcome = (f"validated, out-of-time AUC {r['validation']['auc']:.4f}"
                   if r["status"] == "done" else f"not validated: {r['error']}")  # fmt: skip
        typer.echo(f"request {r['request_id']} {r['model_id'][:12]}: {outcome}")
    if not finished:
        typer.echo("no validation request waiting")


def approve(
    model_ref: str = typer.Argument(..., help="Model id or a unique prefix (≥ 8 characters)."),
    note: str = typer.Option(..., "--note", help="The approver's conclusion."),
) -> None:
    """Validated → approved, by another user than its registrant and validator; the model of
    the same kind approved before is retired. Only an approved model scores in the daily run."""
    with _transaction(RiskAction.MODEL_APPROVE, "model approve") as (conn, caller):
        mid = registry.resolve(conn, model_ref)
        replaced = registry.approve(conn, mid, note, caller.actor, _now())
    typer.echo(f"approved: {mid}" + (f" (retired {replaced})" if replaced else ""))


def retire(
    model_ref: str = typer.Argument(..., help="Model id or a unique prefix (≥ 8 characters)."),
    note: str = typer.Option(..., "--note", help="Why it is retired."),
) -> None:
    """Retire a model: it no longer scores."""
    with _transaction(RiskAction.MODEL_MANAGE, "model retire") as (conn, caller):
        mid = registry.resolve(conn, model_ref)
        registry.retire(conn, mid, note, caller.actor, _now())
    typer.echo(f"retired: {mid}")


def list_(
    kind: str | None = typer.Option(None, "--kind", help="Only this kind."),
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    as_json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The registered models, newest first."""
    with _transaction(RiskAction.MODELS, "model list") as (conn, _caller):
        rows = [registry.describe(r) for r in registry.list_models(conn, kind, status)]
    if as_json_:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(title="Model registry (模型注册表)")
    for column in ("model id", "kind", "name", "status", "data window", "AUC", "OOT AUC",
                   "registered by", "approved by"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(r["model_id"][:12], r["kind"], r["name"], r["status"],
                      r["data_window"] or "—", _num(r["metrics"].get("training_auc")),
                      _num((r["validation"] or {}).get("auc")), r["registered_by"],
                      r["approved_by"] or "—")  # fmt: skip
    console.print(table)


def models_report(
    model_ref: str | None = typer.Option(None, "--model", help="One model's review report."),
    as_json_: bool = typer.Option(False, "--json", help="Machine-readable output."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file (default: in force)."),
) -> None:
    """The model registry (every model's lifecycle and metrics), or with --model one model's
    review pack: its card (data window, features, seed, metrics, validation, approvals), score
    bands and, for a behaviour model, its monitoring on the stored history — PSI of the score
    per month and of each characteristic, AUC/KS per month, calibration per band, alerts."""
    from postloan.risk.model_review import review

    rules = policy_from(policy)
    with _transaction(RiskAction.MODELS, "report models") as (conn, _caller):
        if model_ref is None:
            data: object = {"models": [registry.describe(r)
                                       for r in registry.list_models(conn)]}  # fmt: skip
        else:
            data = review(conn, rules, registry.resolve(conn, model_ref))
    if as_json_:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
        return
    assert isinstance(data, dict)
    if model_ref is None:
        for r in data["models"]:
            console.print(f"{r['model_id'][:12]}  {r['kind']:<9} {r['status']:<9} "
                          f"{r['name']}", markup=False)  # fmt: skip
        return
    _print_review(data)


def _print_review(data: dict[str, object]) -> None:
    card = data["model"]
    assert isinstance(card, dict)
    console.print(f"Model review (模型评审) {card['model_id']}", markup=False)
    for key in ("kind", "name", "status", "target", "data_window", "seed", "registered_by",
                "registered_at", "validated_by", "validated_at", "approved_by", "approved_at",
                "retired_by", "retired_at"):  # fmt: skip
        console.print(f"  {key:<14} {card[key] if card[key] is not None else '—'}", markup=False)
    console.print(f"  features       {', '.join(card['features'])}", markup=False)
    console.print(f"  metrics        {_metrics(card['metrics'])}", markup=False)
    if card["validation"]:
        console.print(f"  validation     {_metrics(card['validation'])}", markup=False)
    _table("Score bands (training)", data.get("bands"))
    watch = data.get("monitoring")
    if not isinstance(watch, dict):
        console.print("  monitoring     — (a behaviour model's, on the stored history)",
                      markup=False)  # fmt: skip
        return
    _table("Stability: PSI of the score per month against the training months",
           watch["stability"])  # fmt: skip
    _table("Stability: PSI of each characteristic, latest month", watch["characteristics"])
    _table("Ranking: AUC and KS per observation month", watch["ranking"])
    _table("Calibration per band after training (Jeffreys)", watch["calibration"])
    if watch["alerts"]:
        _table("Alerts", watch["alerts"])
    else:
        console.print("  no alerts at the policy's thresholds", markup=False)


def _table(title: str, rows: object) -> None:
    if not isinstance(rows, list) or not rows:
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(str(column))
    for r in rows:
        table.add_row(*(_cell(v) for v in r.values()))
    console.print(table)


def _metrics(values: dict[str, object]) -> str:
    return ", ".join(f"{k} {_cell(v)}" for k, v in values.items())


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _num(value: object) -> str:
    return "—" if not isinstance(value, int | float) else f"{value:.4f}"
