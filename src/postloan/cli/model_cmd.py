"""`postloan model …`: fit a scorecard on any table, score a table with a saved model.

These commands read only the files they are handed and write only the output they are told
to — no store, no user data beyond the files — so, like `policy validate`, they need no
permission action (cli/operator.py: `access.permissions.COMMANDS` lists the store commands).

Exit codes: 0 done; 1 the data cannot be modelled or scored (the message names the column
and the reason); 2 a file cannot be read or written.
The modelling package (optbinning, scikit-learn) is imported inside the commands: every other
`postloan` command would otherwise pay for loading it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    help="Scorecards on any table: fit (WoE binning + logistic regression), score.",
    no_args_is_help=True,
)

READABLE = (".csv", ".parquet", ".pq")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise _fail(f"{path}: expected a .csv or .parquet file", 2)
    try:
        if suffix == ".csv":
            # whole-file type inference: a column's type never rests on its first rows
            return pd.read_csv(path, low_memory=False)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise _fail(f"{path}: the file is empty", 2) from None
    except (OSError, ValueError, UnicodeDecodeError, ImportError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _fail(f"{path}: cannot be read ({reason.splitlines()[0]})", 2) from None


def _write(frame: pd.DataFrame, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except OSError as exc:
        raise _fail(f"{path}: cannot be written ({exc.strerror or exc})", 2) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@app.command("fit-scorecard")
def fit_scorecard_cmd(
    data: Path = typer.Option(..., "--data", help="Training table (.csv or .parquet)."),
    target: str = typer.Option(..., "--target", help="The outcome column."),
    bad: str | None = typer.Option(
        None, "--bad", help="The target value that means bad; without it the target is 0/1."
    ),
    out: Path = typer.Option(..., "--out", help="Model directory to write (model.json)."),
    exclude: list[str] = typer.Option([], "--exclude", help="A column not to use (repeat)."),
    categorical: list[str] = typer.Option(
        [], "--categorical", help="A numeric column to treat as categories (repeat)."
    ),
    base_points: float = typer.Option(600.0, help="Score at the base odds."),
    base_odds: float = typer.Option(50.0, help="Good:bad odds at the base points."),
    pdo: float = typer.Option(20.0, help="Points to double the odds."),
    ratios: int = typer.Option(
        3, min=0, help="Ratio characteristics a/b of numeric columns to search for (0: none)."
    ),
    seed: int = typer.Option(42, help="Seed for every seeded step."),
    data_window: str | None = typer.Option(
        None, help="The period the data covers, recorded in model.json (e.g. 2024-01..2024-12)."
    ),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a model already in --out."),
) -> None:
    """Fit a WoE logistic scorecard of TARGET on the table's other columns (numeric and
    categorical, missing values allowed) and save it to OUT; prints AUC, KS and Gini."""
    from postloan.modelling import FitParams, ModellingError, PdoScaling, fit_scorecard
    from postloan.modelling.model_dir import MODEL_FILE, save_model

    if (out / MODEL_FILE).exists() and not replace:
        raise _fail(f"{out / MODEL_FILE} exists: pass --replace to overwrite it", 2)
    frame = _read(data)
    try:
        scaling = PdoScaling(base_points=base_points, base_odds=base_odds, pdo=pdo)
        model = fit_scorecard(
            frame,
            target,
            bad=bad,
            exclude=exclude,
            categorical=categorical,
            params=FitParams(seed=seed, max_ratios=ratios),
            scaling=scaling,
            data_window=data_window,
            source={"file": data.name, "sha256": _sha256(data)},
        )
    except ModellingError as exc:
        raise _fail(f"{data}: {exc}", 1) from None
    except ValueError as exc:  # a setting the library refuses (e.g. a negative PDO)
        raise _fail(str(exc), 1) from None
    try:
        path = save_model(model, out)
    except OSError as exc:
        raise _fail(f"{out}: cannot be written ({exc.strerror or exc})", 2) from None
    m = model.metrics
    derived = [c.name for c in model.characteristics if c.ratio is not None]
    if derived:
        typer.echo(f"ratio characteristics: {', '.join(derived)}")
    typer.echo(
        f"{len(model.characteristics)} characteristics, {model.n_rows} rows "
        f"({model.n_bads} bad) — training AUC {m['auc']:.4f}  KS {m['ks']:.4f}  "
        f"Gini {m['gini']:.4f}"
    )
    typer.echo(f"model written to {path}")


@app.command("score")
def score_cmd(
    model_dir: Path = typer.Option(..., "--model", help="Model directory (model.json)."),
    data: Path = typer.Option(..., "--data", help="Table to score (.csv or .parquet)."),
    out: Path = typer.Option(..., "--out", help="Scores file (.csv or .parquet)."),
    keep: list[str] = typer.Option(
        [], "--keep", help="An input column to copy to the output, e.g. an id (repeat)."
    ),
) -> None:
    """Score every row: one output row per input row, in input order — score, pd, band,
    band_pd and the reason codes (the characteristics that lost most points)."""
    from postloan.modelling import ModellingError, load_model

    try:
        model = load_model(model_dir)
    except ModellingError as exc:
        raise _fail(str(exc), 2) from None
    frame = _read(data)
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        raise _fail(f"{data}: --keep column(s) not in the data: {', '.join(absent)}", 1)
    try:
        scores = model.predict(frame)
    except ModellingError as exc:
        raise _fail(f"{data}: {exc}", 1) from None
    for i, column in enumerate(keep):
        scores.insert(i, column, frame[column].to_numpy())
    _write(scores, out)
    typer.echo(f"{len(scores)} rows scored with {model_dir} → {out}")
